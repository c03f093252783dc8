package dev.mdx.pipeline;

import dev.mdx.sampling.SamplerKind;
import java.math.BigDecimal;
import java.util.Objects;

/**
 * The parameters a generation actually ran with: the request with its random seed resolved, plus the model and
 * the sampler's display name. Enough to reproduce any image of the batch: image k has seed {@code seed + k}.
 *
 * @param samplerName the sampler as the AUTOMATIC1111 web UI names it ("Euler a", "DPM++ 2M Karras", ...)
 * @param model the model's name (its folder name)
 */
public record GenerationParameters(String prompt, String negativePrompt, int steps, double cfgScale, long seed,
        int width, int height, int batchCount, SamplerKind sampler, String samplerName, double eta, String model) {

    public GenerationParameters {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(negativePrompt, "negativePrompt");
        Objects.requireNonNull(sampler, "sampler");
        Objects.requireNonNull(samplerName, "samplerName");
        Objects.requireNonNull(model, "model");
    }

    /** The seed of image {@code index} of the batch. */
    public long seedOf(int index) {
        Objects.checkIndex(index, batchCount);
        return seed + index;
    }

    /**
     * The AUTOMATIC1111 "parameters" text of image {@code index}, which tools read back from PNGs:
     * <pre>
     * prompt
     * Negative prompt: negative          (only when there is one)
     * Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x512, Model: name
     * </pre>
     * Eta follows when it is not 0 and the sampler uses it.
     */
    public String infotext(int index) {
        StringBuilder s = new StringBuilder(prompt);
        if (!negativePrompt.isEmpty()) {
            s.append("\nNegative prompt: ").append(negativePrompt);
        }
        s.append("\nSteps: ").append(steps)
                .append(", Sampler: ").append(samplerName)
                .append(", CFG scale: ").append(number(cfgScale))
                .append(", Seed: ").append(seedOf(index))
                .append(", Size: ").append(width).append('x').append(height)
                .append(", Model: ").append(model);
        if (eta != 0 && sampler == SamplerKind.DDIM) {
            s.append(", Eta: ").append(number(eta));
        }
        return s.toString();
    }

    /** 7.5 -> "7.5", 7.0 -> "7", as the web UI shows them. */
    static String number(double v) {
        return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }
}
