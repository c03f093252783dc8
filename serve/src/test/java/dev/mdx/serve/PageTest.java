package dev.mdx.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page end to end in a real headless Chromium: type a prompt, generate, watch the progress advance and the
 * live preview appear, find the image in the gallery with its parameters and a download; the step presets name the
 * student that runs; cancelling stops the generation on the server.
 */
class PageTest {
    private static WebDriverWait waiting(Browser b) {
        return new WebDriverWait(b.driver, Duration.ofSeconds(60), Duration.ofMillis(20));
    }

    private static String js(Browser b, String script) {
        Object v = ((JavascriptExecutor) b.driver).executeScript(script);
        return v == null ? null : v.toString();
    }

    @Test
    void typeAPromptGenerateAndSeeProgressAndTheImage() throws Exception {
        try (TestServer s = new TestServer(c -> { });
             Browser b = new Browser(1280, 900)) {
            b.driver.get(s.url("/"));
            waiting(b).until(d -> d.findElement(By.id("model")).getAttribute("value").equals("micro"));
            WebElement prompt = b.driver.findElement(By.id("prompt"));
            prompt.sendKeys("a red fox");
            WebElement steps = b.driver.findElement(By.id("steps"));
            steps.clear();
            steps.sendKeys("150");
            b.driver.findElement(By.id("cfg")).sendKeys("5");
            WebElement seed = b.driver.findElement(By.id("seed"));
            seed.sendKeys("1234");
            waiting(b).until(d -> d.findElement(By.id("plan-note")).getText().startsWith("150 steps → the base model"));

            b.driver.findElement(By.id("generate")).click();
            // the progress bar's values while it runs: it must pass through values between empty and full
            TreeSet<Double> seen = new TreeSet<>();
            String preview = null;
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (b.driver.findElements(By.cssSelector("#gallery .card")).isEmpty() && System.nanoTime() < end) {
                seen.add(Double.parseDouble(js(b, "return document.getElementById('progress').value;")));
                String src = js(b, "return document.getElementById('preview').getAttribute('src');");
                if (src != null && preview == null) {
                    preview = src;
                }
            }
            List<Double> between = new ArrayList<>(seen.subSet(0.0, false, 1.0, false));
            assertTrue(between.size() >= 2, "progress seen between 0 and 1: " + seen);
            assertTrue(preview != null && preview.startsWith("data:image/png;base64,"), "a live preview was shown");

            WebElement card = waiting(b).until(d -> d.findElement(By.cssSelector("#gallery .card")));
            WebElement image = card.findElement(By.tagName("img"));
            waiting(b).until(d -> Integer.parseInt(image.getAttribute("naturalWidth")) > 0);
            assertEquals("16", image.getAttribute("naturalWidth"), "the micro model's 16x16 image");
            assertTrue(card.findElement(By.className("meta")).getText().startsWith("seed 1234 · 150 steps"),
                    card.findElement(By.className("meta")).getText());
            String params = js(b, "return document.querySelector('#gallery .card pre.params').textContent;");
            assertTrue(params.startsWith("a red fox\nSteps: 150, Sampler: DDIM, CFG scale: 5, Seed: 1234"), params);
            WebElement download = card.findElement(By.className("download"));
            assertTrue(download.getAttribute("href").startsWith("data:image/png;base64,"));
            assertEquals("mdx-1234.png", download.getAttribute("download"));
            waiting(b).until(d -> d.findElement(By.id("now-title")).getText().startsWith("Done in"));
            assertEquals(List.of(), b.consoleErrors());

            // the gallery survives a reload; Ctrl+Enter generates again
            b.driver.navigate().refresh();
            waiting(b).until(d -> d.findElements(By.cssSelector("#gallery .card")).size() == 1);
            WebElement again = waiting(b).until(d -> d.findElement(By.id("prompt")));
            waiting(b).until(d -> !d.findElement(By.id("model")).getAttribute("value").isEmpty());
            b.driver.findElement(By.id("steps")).clear();
            b.driver.findElement(By.id("steps")).sendKeys("2");
            again.sendKeys(Keys.chord(Keys.CONTROL, Keys.ENTER));
            waiting(b).until(d -> d.findElements(By.cssSelector("#gallery .card")).size() == 2);
        }
    }

    @Test
    void stepPresetsNameTheStudentThatRuns() throws Exception {
        try (TestServer s = TestServer.bundled("emoji", c -> { });
             Browser b = new Browser(1280, 900)) {
            b.driver.get(s.url("/"));
            waiting(b).until(d -> d.findElements(By.cssSelector("#step-presets button")).size() >= 3);
            List<String> presets = b.driver.findElements(By.cssSelector("#step-presets button")).stream()
                    .map(WebElement::getText).map(t -> t.replace('\n', ' ')).toList();
            assertTrue(presets.containsAll(List.of("1 UFOGen", "8 distilled")), presets.toString());
            b.driver.findElement(By.id("prompt")).sendKeys("a red apple");
            b.driver.findElement(By.cssSelector("#step-presets button[data-steps='8']")).click();
            waiting(b).until(d -> d.findElement(By.id("plan-note")).getText()
                    .startsWith("8 steps → the 8-step distilled student"));
            b.driver.findElement(By.cssSelector("#step-presets button[data-steps='1']")).click();
            waiting(b).until(d -> d.findElement(By.id("plan-note")).getText()
                    .startsWith("1 step → the one-step UFOGen student"));
            b.driver.findElement(By.id("generate")).click();
            WebElement card = waiting(b).until(d -> d.findElement(By.cssSelector("#gallery .card")));
            assertTrue(card.findElement(By.className("meta")).getText().contains("1 step · ufogen"),
                    card.findElement(By.className("meta")).getText());
            waiting(b).until(d -> d.findElement(By.id("now-detail")).getText()
                    .contains("using the one-step UFOGen student"));
            assertEquals(List.of(), b.consoleErrors());
        }
    }

    @Test
    void cancelStopsTheGenerationOnTheServer() throws Exception {
        try (TestServer s = new TestServer(c -> { });
             Browser b = new Browser(1280, 900)) {
            b.driver.get(s.url("/"));
            waiting(b).until(d -> d.findElement(By.id("model")).getAttribute("value").equals("micro"));
            b.driver.findElement(By.id("prompt")).sendKeys("a long one");
            b.driver.findElement(By.id("count")).clear();
            b.driver.findElement(By.id("count")).sendKeys("16");
            b.driver.findElement(By.id("steps")).clear();
            b.driver.findElement(By.id("steps")).sendKeys("150");
            b.driver.findElement(By.id("cfg")).sendKeys("5");
            b.driver.findElement(By.id("generate")).click();
            waiting(b).until(d -> d.findElement(By.id("now-title")).getText().startsWith("Step"));
            b.driver.findElement(By.id("cancel")).click();
            waiting(b).until(d -> d.findElement(By.id("now-title")).getText().equals("Cancelled"));
            long cancelled = System.nanoTime();
            while (TestServer.json(s.get("/health")).path("running").asInt() > 0) {
                assertTrue(System.nanoTime() - cancelled < 5_000_000_000L, "the server went on generating");
                Thread.sleep(20);
            }
            JsonNode none = TestServer.json(s.get("/health"));
            assertEquals(0, none.path("queue").asInt());
            assertTrue(b.driver.findElements(By.cssSelector("#gallery .card")).size() < 16);
        }
    }
}
