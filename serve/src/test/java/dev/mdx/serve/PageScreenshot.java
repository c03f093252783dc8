package dev.mdx.serve;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.openqa.selenium.By;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Makes the README's screenshot of the page (not a test): the bundled emoji model, a few prompts generated at one
 * and eight steps, the page as a person sees it. Run from the serve module's test classpath:
 * {@code java -cp ... dev.mdx.serve.PageScreenshot docs/serve-page.png}.
 */
public final class PageScreenshot {
    private PageScreenshot() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "serve-page.png");
        try (TestServer s = TestServer.bundled("emoji", c -> { });
             Browser b = new Browser(1360, 1080)) {
            b.driver.get(s.url("/"));
            WebDriverWait wait = new WebDriverWait(b.driver, Duration.ofSeconds(60));
            wait.until(d -> d.findElements(By.cssSelector("#step-presets button")).size() >= 3);
            String[][] runs = {{"a red apple", "1", "7"}, {"a smiling sun", "1", "3"}, {"a green tree", "8", "11"},
                {"a blue car", "8", "5"}, {"a slice of pizza", "1", "21"}, {"a yellow star", "8", "2"},
                {"a dog", "8", "40"}, {"a birthday cake", "8", "8"}};
            int done = 0;
            for (String[] run : runs) {
                b.driver.findElement(By.id("prompt")).clear();
                b.driver.findElement(By.id("prompt")).sendKeys(run[0]);
                b.driver.findElement(By.cssSelector("#step-presets button[data-steps='" + run[1] + "']")).click();
                b.driver.findElement(By.id("seed")).clear();
                b.driver.findElement(By.id("seed")).sendKeys(run[2]);
                b.driver.findElement(By.id("generate")).click();
                int expected = ++done;
                wait.until(d -> d.findElements(By.cssSelector("#gallery .card")).size() == expected);
                wait.until(d -> d.findElement(By.id("generate")).isEnabled());
            }
            Files.copy(b.screenshot().toPath(), out, StandardCopyOption.REPLACE_EXISTING);
            System.out.println("wrote " + out);
        }
    }
}
