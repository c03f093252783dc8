package dev.mdx.web;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The repository's web/ folder and what the page needs in it: onnxruntime-web installed by {@code npm ci} from the
 * lockfile (.ci/run does it). Missing pieces fail the test with the command that fixes them.
 */
final class WebFolder {
    private WebFolder() {}

    static Path repository() {
        String home = System.getProperty("mdx.home");
        Path root = home != null ? Path.of(home) : Path.of("..");
        return root.toAbsolutePath().normalize();
    }

    static Path dir() {
        Path web = repository().resolve("web");
        assertTrue(Files.isRegularFile(web.resolve("index.html")), "the page is missing: " + web.resolve("index.html"));
        Path ort = web.resolve("node_modules/onnxruntime-web/dist/ort.wasm.min.mjs");
        assertTrue(Files.isRegularFile(ort), "onnxruntime-web is not installed in " + web + ": run `npm ci` there"
                + " (.ci/run does it; it needs the npm registry once)");
        return web;
    }
}
