package dev.mdx.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The models mdx ships in its {@code models/} folder, selectable by name ({@code -m emoji}), and the rule that
 * turns a {@code -m} value into a pipeline folder: an existing folder wins, otherwise a bundled name.
 *
 * <p>The mdx home is the {@code mdx.home} system property (the launcher sets it to the checkout), else the
 * {@code MDX_HOME} environment variable, else the working directory.
 */
public final class BundledModels {
    /** The model {@code mdx generate} uses when {@code -m} is not given. */
    public static final String DEFAULT = "emoji";

    private BundledModels() {}

    public static Path home() {
        String property = System.getProperty("mdx.home");
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        String env = System.getenv("MDX_HOME");
        return Path.of(env != null && !env.isBlank() ? env : "").toAbsolutePath();
    }

    public static Path modelsDir() {
        return home().resolve("models");
    }

    /** Names of the bundled pipeline folders (those holding a {@code model_index.json}), sorted. */
    public static List<String> names() {
        Path dir = modelsDir();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(dir)) {
            return children.filter(p -> Files.isRegularFile(p.resolve("model_index.json")))
                    .map(p -> p.getFileName().toString())
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /**
     * The pipeline folder for a {@code -m} value: the folder itself if it exists, else the bundled model of that
     * name; null means the default model.
     */
    public static Path resolve(String spec) {
        String name = spec == null ? DEFAULT : spec;
        Path asPath = Path.of(name);
        boolean plainName = !name.isEmpty() && asPath.getNameCount() == 1 && !asPath.isAbsolute()
                && !name.startsWith(".");
        if (Files.isDirectory(asPath) || !plainName) {
            return asPath; // a path: ModelFolder.open says what is wrong with it
        }
        Path bundled = modelsDir().resolve(name);
        if (Files.isRegularFile(bundled.resolve("model_index.json"))) {
            return bundled;
        }
        List<String> names = names();
        String known = names.isEmpty()
                ? "no bundled models found in " + modelsDir() + " (set -Dmdx.home or MDX_HOME to the mdx checkout)"
                : "bundled models: " + String.join(", ", names);
        throw new ModelFormatException("model '" + name + "' is neither a folder nor a bundled model; " + known);
    }
}
