package dev.mdx.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.mdx.io.JsonConfig;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.tensor.Precision;
import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The parameters a generation actually ran with: the request with its random seed resolved, plus the model and
 * the sampler's display name. Enough to reproduce any image of the batch: image k has seed {@code seed + k}.
 *
 * @param samplerName the sampler as the AUTOMATIC1111 web UI names it ("Euler a", "DPM++ 2M Karras", ...)
 * @param model the model's name (its folder name)
 * @param denoisingStrength the strength an edited image was noised to (A1111's "Denoising strength"), or null
 * @param loras the request's LoRA files as {@code NAME:SCALE} (those the prompt names with {@code <lora:...>} stay in
 *     the prompt)
 * @param clipSkip A1111's clip skip (1 = the text encoder's last layer)
 * @param control the control adapter's settings as the ControlNet extension writes them into the infotext
 *     ({@code Module: canny, Model: NAME, Weight: S}), or null without control
 * @param precision the precision the matrix work ran in (bf16 only when it did run in bf16)
 */
public record GenerationParameters(String prompt, String negativePrompt, int steps, double cfgScale, long seed,
        int width, int height, int batchCount, SamplerKind sampler, String samplerName, double eta, String model,
        Double denoisingStrength, List<String> loras, int clipSkip, String control, Precision precision) {

    /** The parameters of a text-to-image run without LoRA files. */
    public GenerationParameters(String prompt, String negativePrompt, int steps, double cfgScale, long seed,
        int width, int height, int batchCount, SamplerKind sampler, String samplerName, double eta, String model) {
        this(prompt, negativePrompt, steps, cfgScale, seed, width, height, batchCount, sampler, samplerName, eta, model,
                null, List.of(), 1, null, Precision.FP32);
    }

    public GenerationParameters {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(negativePrompt, "negativePrompt");
        Objects.requireNonNull(sampler, "sampler");
        Objects.requireNonNull(samplerName, "samplerName");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(precision, "precision");
        loras = List.copyOf(loras);
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
     * Eta follows when it is not 0 and the sampler uses it, Clip skip when it is not 1, then
     * {@code Lora: "NAME:SCALE, ..."} for the request's LoRA files, {@code ControlNet 0: "Module: ..., Model: ...,
     * Weight: ..."} for a control adapter (the ControlNet extension's entry) and {@code Precision: bf16} for a bf16
     * run (fp32, the default, is not written). The web UI reads every line up to one starting with
     * "Negative prompt:" as the prompt and the last line as the settings, so each prompt is written as one line
     * (see {@link #promptLine}) and a value with a comma, colon or line break is quoted as the web UI quotes it.
     */
    public String infotext(int index) {
        StringBuilder s = new StringBuilder(promptLine(prompt, true));
        if (!negativePrompt.isEmpty()) {
            s.append("\nNegative prompt: ").append(promptLine(negativePrompt, false));
        }
        s.append("\nSteps: ").append(steps)
                .append(", Sampler: ").append(quote(samplerName))
                .append(", CFG scale: ").append(number(cfgScale))
                .append(", Seed: ").append(seedOf(index))
                .append(", Size: ").append(width).append('x').append(height)
                .append(", Model: ").append(quote(model));
        if (eta != 0 && sampler == SamplerKind.DDIM) {
            s.append(", Eta: ").append(number(eta));
        }
        if (denoisingStrength != null) {
            s.append(", Denoising strength: ").append(number(denoisingStrength));
        }
        if (clipSkip != 1) {
            s.append(", Clip skip: ").append(clipSkip);
        }
        if (!loras.isEmpty()) {
            s.append(", Lora: ").append(quote(String.join(", ", loras)));
        }
        if (control != null) {
            s.append(", ControlNet 0: ").append(quote(control));
        }
        if (precision != Precision.FP32) {
            s.append(", Precision: ").append(precision.name().toLowerCase(Locale.ROOT));
        }
        return s.toString();
    }

    /** Line breaks: CRLF, CR, LF, and Unicode's line and paragraph separators. */
    private static final Pattern LINE_BREAK = Pattern.compile("\r\n|[\n\r\u2028\u2029]");
    private static final String NEGATIVE_MARKER = "Negative prompt:";

    /**
     * A prompt as one line that reads back as itself to CLIP: line breaks become spaces (CLIP reads any whitespace
     * run as one space) and control characters other than tab are left out (CLIP drops them, and PNG text cannot
     * hold a NUL). A prompt line that starts with "Negative prompt:" has the N in lower case (CLIP lower-cases all
     * text), or the web UI would read the whole prompt as the negative one.
     */
    static String promptLine(String text, boolean positive) {
        StringBuilder out = new StringBuilder(text.length());
        LINE_BREAK.matcher(text).replaceAll(" ").codePoints()
                .filter(c -> c == '\t' || Character.getType(c) != Character.CONTROL)
                .forEach(out::appendCodePoint);
        int start = 0;
        // Python's strip() also removes no-break spaces
        while (start < out.length() && (Character.isWhitespace(out.charAt(start))
                || Character.isSpaceChar(out.charAt(start)))) {
            start++;
        }
        if (positive && out.indexOf(NEGATIVE_MARKER, start) == start) {
            out.setCharAt(start, 'n');
        }
        return out.toString();
    }

    /**
     * The web UI's quote(): a settings value with a comma, colon or line break is written as a JSON string (here
     * also one with any other control character, which JSON escapes).
     */
    static String quote(String value) {
        if (value.indexOf(',') < 0 && value.indexOf(':') < 0 && value.chars().noneMatch(Character::isISOControl)) {
            return value;
        }
        try {
            return JsonConfig.MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a string always serialises", e);
        }
    }

    /** 7.5 -> "7.5", 7.0 -> "7", as the web UI shows them. */
    static String number(double v) {
        return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }
}
