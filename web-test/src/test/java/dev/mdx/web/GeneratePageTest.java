package dev.mdx.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.export.OnnxExport;
import dev.mdx.io.JsonConfig;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.serve.Browser;
import dev.mdx.text.ClipTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The in-browser page (web/) end to end in headless Chromium with onnxruntime-web's WebAssembly backend, on the
 * bundled one-step emoji student exported to ONNX (fp32 and fp16 weights): type a prompt and a seed, get mdx's image
 * for that prompt and seed; a noise file replaces the seed; the page's seeded noise is mdx's bit for bit; a missing
 * model, a model of more steps and a bad seed are one message each.
 *
 * <p>Tolerance: ONNX Runtime (WebAssembly, fp32) and libtorch sum in different orders, so the 8-bit images may differ
 * by a rounding step here and there: at most {@value #MAX_LEVELS} levels in any channel and {@value #MEAN_LEVELS} on
 * average (measured: see docs/EXPORT.md).
 */
class GeneratePageTest {
    static final String PROMPT = "a red apple";
    static final long SEED = 1234;
    static final int MAX_LEVELS = 2;
    static final double MEAN_LEVELS = 0.05;

    private static StaticServer server;
    private static Browser browser;

    @BeforeAll
    static void open() {
        server = new StaticServer().mount("/", WebFolder.dir()).mount("/model/", OneStepEmoji.exported())
                .mount("/model-fp16/", OneStepEmoji.exportedFp16())
                .file("/noise-77.bin", OneStepEmoji.littleEndian(OneStepEmoji.noise(77)))
                .file("/eight-steps/model.json", eightStepModelJson());
        for (String file : List.of("index.html", "style.css", "js/app.js", "js/pipeline.js", "js/model.js",
                "js/tokenizer.js", "js/noise.js")) {
            server.file("/without-npm/" + file, read(WebFolder.dir().resolve(file)));
        }
        browser = new Browser(1000, 900);
    }

    @AfterAll
    static void close() {
        if (server != null) {
            server.closeWith(browser);
        }
    }

    private static WebDriverWait waiting() {
        return new WebDriverWait(browser.driver, Duration.ofSeconds(120), Duration.ofMillis(50));
    }

    private static void load(String query) {
        browser.consoleErrors(); // reading the log empties it: what a test sees is its own
        browser.driver.get(server.url("/index.html" + query));
        waiting().until(d -> d.findElement(By.id("status")).getText().startsWith("Ready")
                || d.findElement(By.id("status")).getAttribute("class").contains("error"));
        assertTrue(browser.driver.findElement(By.id("status")).getText().startsWith("Ready"),
                browser.driver.findElement(By.id("status")).getText());
    }

    /** Types the prompt (and seed), clicks Generate and returns the canvas pixels once the image is drawn. */
    private static int[] generate(String prompt, String seed) {
        WebElement canvas = browser.driver.findElement(By.id("image"));
        int before = Integer.parseInt(canvas.getAttribute("data-count"));
        browser.driver.findElement(By.id("prompt")).clear();
        browser.driver.findElement(By.id("prompt")).sendKeys(prompt);
        if (seed != null) {
            browser.driver.findElement(By.id("seed")).clear();
            browser.driver.findElement(By.id("seed")).sendKeys(seed);
        }
        browser.driver.findElement(By.id("generate")).click();
        waiting().until(d -> Integer.parseInt(canvas.getAttribute("data-count")) > before
                || d.findElement(By.id("status")).getAttribute("class").contains("error"));
        assertEquals(before + 1, Integer.parseInt(canvas.getAttribute("data-count")),
                browser.driver.findElement(By.id("status")).getText());
        @SuppressWarnings("unchecked")
        List<Number> rgba = (List<Number>) browser.driver.executeScript("""
                const c = document.getElementById('image');
                return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);""");
        return rgba.stream().mapToInt(Number::intValue).toArray();
    }

    /** Max and mean absolute difference in 8-bit levels between mdx's RGB and the page's RGBA (opaque). */
    private static void assertSameImage(RgbImage mdx, int[] rgba, String what) {
        assertEquals(mdx.width() * mdx.height() * 4, rgba.length, what + ": image size");
        byte[] rgb = mdx.rgb();
        int max = 0;
        long sum = 0;
        for (int p = 0; p < mdx.width() * mdx.height(); p++) {
            for (int c = 0; c < 3; c++) {
                int d = Math.abs((rgb[p * 3 + c] & 0xff) - rgba[p * 4 + c]);
                max = Math.max(max, d);
                sum += d;
            }
            assertEquals(255, rgba[p * 4 + 3], what + ": opaque");
        }
        double mean = sum / (3.0 * mdx.width() * mdx.height());
        System.out.printf("%s: browser vs mdx max %d levels, mean %.4f%n", what, max, mean);
        assertTrue(max <= MAX_LEVELS && mean <= MEAN_LEVELS, what + ": the browser's image differs from mdx's by up to "
                + max + " levels (mean " + mean + ")");
    }

    @Test
    void aPromptAndSeedGiveTheImageMdxComputes() {
        load("?model=/model/");
        int[] pixels = generate(PROMPT, Long.toString(SEED));
        assertSameImage(OneStepEmoji.mdxImage(PROMPT, SEED), pixels, "'" + PROMPT + "' seed " + SEED);
        String timing = browser.driver.findElement(By.id("timing")).getText();
        assertTrue(timing.matches("\\d+ ms per image \\(text encoder \\d+ ms, UNet \\d+ ms, decoder \\d+ ms\\)"), timing);
        int tokens = ClipTokenizer.load(OneStepEmoji.exported().resolve("tokenizer")).encode(PROMPT).untruncatedLength() - 2;
        assertEquals(tokens + " tokens", browser.driver.findElement(By.id("tokens")).getText());
        // another prompt gives another image
        int[] other = generate("a blue car", null);
        assertFalse(Arrays.equals(pixels, other), "a different prompt changed the image");
        // a seed that is not a 64-bit integer is one message, and no image
        browser.driver.findElement(By.id("seed")).clear();
        browser.driver.findElement(By.id("seed")).sendKeys("12ab");
        browser.driver.findElement(By.id("generate")).click();
        WebElement status = browser.driver.findElement(By.id("status"));
        waiting().until(d -> status.getAttribute("class").contains("error"));
        assertEquals("the seed must be a whole number, got '12ab'", status.getText());
        assertEquals("2", browser.driver.findElement(By.id("image")).getAttribute("data-count"));
        assertEquals(List.of(), browser.consoleErrors());
    }

    @Test
    void aNoiseFileReplacesTheSeed() {
        load("?model=/model/&noise=/noise-77.bin");
        assertTrue(browser.driver.findElement(By.id("status")).getText().endsWith("noise from /noise-77.bin"));
        int[] pixels = generate(PROMPT, Long.toString(SEED));
        assertSameImage(OneStepEmoji.mdxImage(PROMPT, 77), pixels, "'" + PROMPT + "' noise of seed 77 from a file");
        assertEquals(List.of(), browser.consoleErrors());
    }

    @Test
    void theFp16ExportGivesTheSameImage() {
        load("?model=/model-fp16/");
        int[] pixels = generate(PROMPT, "5");
        assertSameImage(OneStepEmoji.mdxImage(PROMPT, 5), pixels, "'" + PROMPT + "' seed 5, fp16 weights");
        assertEquals(List.of(), browser.consoleErrors());
    }

    @Test
    void thePagesSeededNoiseIsMdxsBitForBit() {
        load("?model=/model/");
        long[] seeds = {0, 1, SEED, -5, Long.MAX_VALUE, Long.MIN_VALUE};
        int count = (int) OneStepEmoji.latentShape().size();
        for (long seed : seeds) {
            Object result = browser.driver.executeAsyncScript("""
                    const [seed, count, done] = arguments;
                    import('/js/noise.js').then(({ parseSeed, seededNormal }) =>
                        done({ values: Array.from(seededNormal(parseSeed(seed), count)) }))
                      .catch((e) => done({ error: String(e) }));""", Long.toString(seed), count);
            @SuppressWarnings("unchecked")
            Map<String, Object> map = (Map<String, Object>) result;
            assertNull(map.get("error"));
            @SuppressWarnings("unchecked")
            List<Number> js = (List<Number>) map.get("values");
            float[] mdx = OneStepEmoji.noise(seed);
            assertEquals(mdx.length, js.size());
            for (int i = 0; i < mdx.length; i++) {
                assertEquals(Float.floatToIntBits(mdx[i]), Float.floatToIntBits(js.get(i).floatValue()),
                        "seed " + seed + " value " + i);
            }
        }
    }

    @Test
    void aMissingModelOrRuntimeOrAModelThePageCannotRunIsOneClearMessage() {
        String missing = loadError("/no-such-model/");
        assertTrue(missing.startsWith("Cannot load the model: ") && missing.contains("HTTP 404")
                && missing.contains("mdx export onnx"), missing);
        assertEquals("Cannot load the model: this page runs one-step models (a UFOGen student, e.g."
                + " models/emoji/students/ufogen); model.json says 8 steps", loadError("/eight-steps/"));
        // the page's files without onnxruntime-web beside them (npm ci not run)
        String noRuntime = pageError("/without-npm/index.html?model=/model/");
        assertTrue(noRuntime.startsWith("Cannot load the model: onnxruntime-web did not load: run `npm ci` in the web/"
                + " folder"), noRuntime);
    }

    /** The page's error after loading {@code model}; Generate stays disabled. */
    private static String loadError(String model) {
        return pageError("/index.html?model=" + model);
    }

    private static String pageError(String path) {
        browser.driver.get(server.url(path));
        WebElement status = waiting().until(d -> {
            WebElement s = d.findElement(By.id("status"));
            return s.getAttribute("class").contains("error") ? s : null;
        });
        assertFalse(browser.driver.findElement(By.id("generate")).isEnabled());
        return status.getText();
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The exported student's model.json as an 8-step model's would read (no student entry, 8 default steps). */
    private static byte[] eightStepModelJson() {
        ObjectNode json = (ObjectNode) JsonConfig.read(OneStepEmoji.exported().resolve(OnnxExport.MODEL_JSON)).root();
        json.remove("student");
        ((ObjectNode) json.get("defaults")).put("steps", 8);
        return JsonConfig.pretty(json).getBytes(StandardCharsets.UTF_8);
    }
}
