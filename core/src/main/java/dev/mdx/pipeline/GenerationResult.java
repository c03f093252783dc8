package dev.mdx.pipeline;

import java.util.List;

/**
 * What a generation produced.
 *
 * @param images one per batch entry; image k was made from seed {@code parameters.seedOf(k)}
 * @param parameters the parameters actually used (resolved seed, sampler, size, steps, guidance)
 * @param timings where the time went
 * @param warnings things the caller should tell the user (a prompt cut to the text encoder's length, an ignored
 *     negative prompt or eta); empty when all went as asked
 */
public record GenerationResult(List<RgbImage> images, GenerationParameters parameters, Timings timings,
        List<String> warnings) {
    public GenerationResult {
        images = List.copyOf(images);
        warnings = List.copyOf(warnings);
    }

    /** The A1111 "parameters" text of image {@code index}, for its PNG. */
    public String infotext(int index) {
        return parameters.infotext(index);
    }
}
