package dev.mdx.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.MdxException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mdx serve --web-dir DIR}: the folder's files under /browser/ with the types and headers the page needs. */
class BrowserPageDirTest {
    @TempDir
    Path dir;

    @Test
    void servesTheFolderWithModuleAndWasmTypesAndIsolationHeaders() throws Exception {
        Path lib = Files.createDirectories(dir.resolve("page/lib"));
        Files.writeString(dir.resolve("page/index.html"), "<!doctype html><title>in the browser</title>");
        Files.writeString(lib.resolve("ort.mjs"), "export const x = 1;");
        Files.write(lib.resolve("ort.wasm"), new byte[] {0, 'a', 's', 'm', 1, 0, 0, 0});
        Files.writeString(dir.resolve("secret.txt"), "outside the folder");
        try (TestServer s = new TestServer(c -> c.webDir(dir.resolve("page")))) {
            HttpResponse<String> page = s.get(ServeConfig.WEB_DIR_PATH + "/index.html");
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("in the browser"));
            assertEquals("same-origin", page.headers().firstValue("Cross-Origin-Opener-Policy").orElse(""));
            assertEquals("require-corp", page.headers().firstValue("Cross-Origin-Embedder-Policy").orElse(""));
            assertTrue(s.get(ServeConfig.WEB_DIR_PATH + "/lib/ort.mjs").headers().firstValue("Content-Type").orElse("")
                    .startsWith("text/javascript"));
            assertTrue(s.get(ServeConfig.WEB_DIR_PATH + "/lib/ort.wasm").headers().firstValue("Content-Type")
                    .orElse("").startsWith("application/wasm"));
            assertTrue(s.get(ServeConfig.WEB_DIR_PATH + "/../secret.txt").statusCode() >= 400, "outside the folder");
            assertTrue(s.get(ServeConfig.WEB_DIR_PATH + "/%2e%2e/secret.txt").statusCode() >= 400, "outside the folder");
            // the server's own page is still where it was
            assertEquals(200, s.get("/").statusCode());
        }
    }

    @Test
    void aFolderWithoutAPageIsRefusedClearly() {
        MdxException e = assertThrows(MdxException.class,
                () -> ServeConfig.builder().models(List.of("emoji")).webDir(dir).build());
        assertTrue(e.getMessage().startsWith("--web-dir " + dir.toAbsolutePath() + ": no index.html"), e.getMessage());
    }

    @Test
    void withoutAFolderNothingIsServedThere() throws Exception {
        try (TestServer s = new TestServer(c -> { })) {
            assertEquals(404, s.get(ServeConfig.WEB_DIR_PATH + "/index.html").statusCode());
        }
    }
}
