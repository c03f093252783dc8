package dev.mdx.pipeline;

import java.util.List;

/**
 * Where the time of a generation went, in milliseconds.
 *
 * @param textEncoderMs tokenizing and encoding prompt and negative prompt (once per request)
 * @param unetStepMs one entry per UNet evaluation, image after image (batchCount x steps entries)
 * @param decodeMs VAE decoding and conversion to 8-bit images, all images
 * @param totalMs the whole call
 */
public record Timings(double textEncoderMs, List<Double> unetStepMs, double decodeMs, double totalMs) {
    public Timings {
        unetStepMs = List.copyOf(unetStepMs);
    }

    public double unetTotalMs() {
        return unetStepMs.stream().mapToDouble(Double::doubleValue).sum();
    }

    public double meanUnetStepMs() {
        return unetStepMs.isEmpty() ? 0 : unetTotalMs() / unetStepMs.size();
    }
}
