package dev.mdx.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.export.OnnxExport;
import dev.mdx.export.OnnxPrecision;
import dev.mdx.serve.Browser;
import dev.mdx.serve.MdxServer;
import dev.mdx.serve.ServeConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The setup docs/EXPORT.md describes: a copy of web/ with onnxruntime-web and a model exported into its model/ folder,
 * served by {@code mdx serve --web-dir}: the page loads its default model, runs cross-origin isolated (so on several
 * WebAssembly threads) and draws an image.
 */
class ServeWebDirTest {
    /** The files of onnxruntime-web the page loads (its WebAssembly build without WebGPU). */
    private static final List<String> ORT_FILES = List.of("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs",
            "ort-wasm-simd-threaded.wasm");

    @TempDir
    Path dir;

    @Test
    void mdxServeWebDirServesThePageThatGenerates() throws Exception {
        Path web = WebFolder.dir();
        copyTree(web.resolve("js"), dir.resolve("js"));
        for (String f : List.of("index.html", "style.css")) {
            Files.copy(web.resolve(f), dir.resolve(f));
        }
        Path dist = Files.createDirectories(dir.resolve("node_modules/onnxruntime-web/dist"));
        for (String f : ORT_FILES) {
            Files.copy(web.resolve("node_modules/onnxruntime-web/dist").resolve(f), dist.resolve(f));
        }
        OnnxExport.export(OneStepEmoji.student(), dir.resolve("model"), OnnxPrecision.FP16);

        ServeConfig config = ServeConfig.builder().port(0).models(List.of("emoji")).webDir(dir).build();
        try (MdxServer server = MdxServer.start(config, new PrintStream(PrintStream.nullOutputStream()));
             Browser b = new Browser(1000, 800)) {
            b.driver.get("http://127.0.0.1:" + server.port() + ServeConfig.WEB_DIR_PATH + "/index.html");
            WebDriverWait wait = new WebDriverWait(b.driver, Duration.ofSeconds(120), Duration.ofMillis(50));
            WebElement status = b.driver.findElement(By.id("status"));
            wait.until(d -> status.getText().startsWith("Ready") || status.getAttribute("class").contains("error"));
            assertTrue(status.getText().startsWith("Ready") && status.getText().contains("2 threads"), status.getText());
            b.driver.findElement(By.id("prompt")).sendKeys("a red apple");
            b.driver.findElement(By.id("generate")).click();
            wait.until(d -> "1".equals(d.findElement(By.id("image")).getAttribute("data-count"))
                    || status.getAttribute("class").contains("error"));
            assertEquals("1", b.driver.findElement(By.id("image")).getAttribute("data-count"), status.getText());
            assertEquals(List.of(), b.consoleErrors());
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            walk.forEach(p -> {
                try {
                    Files.copy(p, to.resolve(from.relativize(p).toString()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
