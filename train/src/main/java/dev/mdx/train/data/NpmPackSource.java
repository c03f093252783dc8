package dev.mdx.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Fetches a pinned npm package tarball with {@code npm pack name@version} into a cache folder. A tarball
 * already in the cache is used as it is, so rebuilds need neither npm nor the network.
 */
public final class NpmPackSource implements PackageSource {
    private static final long TIMEOUT_MINUTES = 10;

    private final Path cacheDir;
    private final String npmCommand;

    public NpmPackSource(Path cacheDir) {
        this(cacheDir, "npm");
    }

    public NpmPackSource(Path cacheDir, String npmCommand) {
        this.cacheDir = cacheDir;
        this.npmCommand = npmCommand;
    }

    /** The file name npm gives a packed tarball: scope '@' dropped, '/' turned into '-'. */
    static String tarballName(String name, String version) {
        String base = name.startsWith("@") ? name.substring(1).replace('/', '-') : name;
        return base + "-" + version + ".tgz";
    }

    @Override
    public Path fetch(String name, String version) {
        Path target = cacheDir.resolve(tarballName(name, version));
        if (Files.isRegularFile(target)) {
            return target;
        }
        try {
            Files.createDirectories(cacheDir);
        } catch (IOException e) {
            throw new DatasetException("cannot create package cache " + cacheDir + ": " + e.getMessage(), e);
        }
        String spec = name + "@" + version;
        List<String> command = List.of(npmCommand, "pack", spec, "--pack-destination", cacheDir.toString(), "--silent");
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new DatasetException("cannot run '" + npmCommand + "' to fetch " + spec
                    + ": install Node.js and npm (Debian: apt-get install npm), or put " + target.getFileName()
                    + " into " + cacheDir, e);
        }
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new DatasetException("npm pack " + spec + " did not finish in " + TIMEOUT_MINUTES + " minutes");
            }
        } catch (IOException e) {
            throw new DatasetException("npm pack " + spec + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new DatasetException("interrupted while fetching " + spec, e);
        }
        if (process.exitValue() != 0 || !Files.isRegularFile(target)) {
            throw new DatasetException("npm pack " + spec + " failed (exit " + process.exitValue() + "), expected "
                    + target + ":\n" + output);
        }
        return target;
    }
}
