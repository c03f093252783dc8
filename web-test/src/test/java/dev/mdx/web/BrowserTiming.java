package dev.mdx.web;

import dev.mdx.serve.Browser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.By;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Measures the time per image of the in-browser page (not a test): headless Chromium, onnxruntime-web's WebAssembly
 * backend, the one-step emoji student exported fp32 or fp16. For each thread count: load the page, one warm-up
 * image, then RUNS images with different seeds; prints the median and range of the page's own timings
 * (performance.now() around each stage) and the model load time. Optionally saves a screenshot of the page. Run from
 * web-test's test classpath (docs/BENCHMARKS.md): {@code java -cp ... dev.mdx.web.BrowserTiming RUNS THREADS,..
 * fp32|fp16 [SCREENSHOT.png]}.
 */
public final class BrowserTiming {
    private BrowserTiming() {}

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        String[] threadCounts = (args.length > 1 ? args[1] : "1,2").split(",");
        String precision = args.length > 2 ? args[2] : "fp32";
        Path model = "fp16".equals(precision) ? OneStepEmoji.exportedFp16() : OneStepEmoji.exported();
        System.out.printf("load average before: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
        try (StaticServer server = new StaticServer().mount("/", WebFolder.dir()).mount("/model/", model);
             Browser b = new Browser(1000, 760)) {
            for (String threads : threadCounts) {
                b.driver.get(server.url("/index.html?model=/model/&threads=" + threads));
                WebDriverWait wait = new WebDriverWait(b.driver, Duration.ofSeconds(300), Duration.ofMillis(20));
                wait.until(d -> d.findElement(By.id("status")).getText().startsWith("Ready"));
                String ready = b.driver.findElement(By.id("status")).getText();
                List<Map<String, Double>> times = new ArrayList<>();
                for (int i = 0; i <= runs; i++) {
                    b.driver.findElement(By.id("prompt")).clear();
                    b.driver.findElement(By.id("prompt")).sendKeys(i % 2 == 0 ? "a red apple" : "a smiling sun");
                    b.driver.findElement(By.id("seed")).clear();
                    b.driver.findElement(By.id("seed")).sendKeys(Integer.toString(i));
                    String before = b.driver.findElement(By.id("image")).getAttribute("data-count");
                    b.driver.findElement(By.id("generate")).click();
                    wait.until(d -> !d.findElement(By.id("image")).getAttribute("data-count").equals(before));
                    @SuppressWarnings("unchecked")
                    Map<String, Number> ms = (Map<String, Number>) b.driver.executeScript("return window.lastTimings;");
                    if (i > 0) { // the first image warms up
                        Map<String, Double> row = new java.util.HashMap<>();
                        ms.forEach((k, v) -> row.put(k, v.doubleValue()));
                        times.add(row);
                    }
                }
                System.out.printf("%s threads=%s runs=%d: %s%n", precision, threads, runs, ready);
                for (String stage : List.of("total", "textEncoder", "unet", "decoder", "tokenize")) {
                    double[] v = times.stream().mapToDouble(t -> t.get(stage)).sorted().toArray();
                    System.out.printf("  %-12s median %7.1f ms  min %7.1f  max %7.1f%n", stage, v[v.length / 2], v[0],
                            v[v.length - 1]);
                }
            }
            if (args.length > 3) {
                Files.copy(b.screenshot().toPath(), Path.of(args[3]), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        System.out.printf("load average after: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
    }
}
