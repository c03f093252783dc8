package dev.mdx.bench;

import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.tensor.Precision;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A measurement program, not a test: PSNR of bf16 images against fp32 images of the same prompts and seeds.
 * Arguments: MODEL_DIR STEPS IMAGES [PROMPT...] (prompts are used in turn; image k has seed k). With
 * {@code --no-student} as the second argument's prefix ("50" or "1:base") the base model runs at that step count.
 */
public final class PrecisionQualityMain {
    private PrecisionQualityMain() {}

    public static void main(String[] args) {
        Path model = Path.of(args[0]);
        boolean base = args[1].endsWith(":base");
        int steps = Integer.parseInt(args[1].replace(":base", ""));
        int images = Integer.parseInt(args[2]);
        List<String> prompts = args.length > 3 ? List.of(args).subList(3, args.length) : List.of("");
        List<Double> psnr = new ArrayList<>();
        double[] ms = new double[2];
        try (TextToImagePipeline p = TextToImagePipeline.load(model)) {
            for (int k = 0; k < images; k++) {
                String prompt = prompts.get(k % prompts.size());
                RgbImage[] out = new RgbImage[2];
                for (Precision precision : Precision.values()) {
                    GenerationRequest r = p.newRequest().prompt(prompt).seed(k).steps(steps).useStudent(!base)
                            .precision(precision).build();
                    long t0 = System.nanoTime();
                    out[precision.ordinal()] = p.generate(r).images().get(0);
                    ms[precision.ordinal()] += (System.nanoTime() - t0) / 1e6;
                }
                double v = Psnr.of(out[0], out[1]);
                psnr.add(v);
                System.out.printf(Locale.ROOT, "seed %d %-28s PSNR %.2f dB%n", k, "\"" + prompt + "\"", v);
            }
        }
        double mean = psnr.stream().mapToDouble(Double::doubleValue).filter(Double::isFinite).average().orElse(
                Double.POSITIVE_INFINITY);
        double min = psnr.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        System.out.printf(Locale.ROOT, "%s, %d steps%s, %d images: PSNR bf16 vs fp32 mean %.2f dB, min %.2f dB"
                + " (fp32 %.0f ms, bf16 %.0f ms per image, load included)%n", model, steps, base ? " (base)" : "",
                images, mean, min, ms[0] / images, ms[1] / images);
    }
}
