package dev.mdx.memory;

import dev.mdx.vae.VaeTiling;
import java.util.Locale;

/**
 * The estimated peak resident memory of one generation request, in bytes, by part. A generation has two phases that
 * do not overlap: denoising (text encoder once, then each UNet step, whose scope frees everything at its end) and the
 * VAE decode; the process's peak is the larger of the two, each on top of the runtime and the weights.
 *
 * @param unetBatch samples per UNet call (2 with classifier-free guidance)
 * @param height image height in pixels
 * @param width image width in pixels
 * @param tiling how the VAE decodes
 * @param runtime the JVM and libtorch before any model is loaded
 * @param weights all loaded weights (text encoder, UNet, VAE encoder and decoder), float32
 * @param textEncoder the text encoder's activations (before the first step; less than a step's in practice)
 * @param unetFeatures feature maps, skip connections and layer intermediates held at the UNet step's peak, besides
 *     attention's
 * @param unetAttention what attention layers hold at the UNet step's peak: projections, their batched copies and
 *     one query chunk's scores
 * @param vaeDecode the decode's activations at its peak, with the image's conversion to 8-bit RGB
 * @param heldFromDenoising memory the UNet step freed but malloc may still hold when the decode starts (its
 *     activations), or 0 when the caller releases it in between ({@link NativeMemory#releaseFreed()})
 */
public record MemoryEstimate(int unetBatch, long height, long width, VaeTiling tiling, long runtime, long weights,
        long textEncoder, long unetFeatures, long unetAttention, long vaeDecode, long heldFromDenoising) {

    /** Activations of the UNet step at its peak: feature maps plus attention. */
    public long unetActivations() {
        return saturatedSum(unetFeatures, unetAttention);
    }

    /** The process's peak while denoising. */
    public long denoisePhase() {
        return saturatedSum(runtime, weights, Math.max(textEncoder, unetActivations()));
    }

    /** The process's peak while decoding. */
    public long decodePhase() {
        return saturatedSum(runtime, weights, heldFromDenoising, vaeDecode);
    }

    /** The process's peak resident memory for the request. */
    public long total() {
        return Math.max(denoisePhase(), decodePhase());
    }

    static long saturatedSum(long... parts) {
        long sum = 0;
        for (long p : parts) {
            sum = p > Long.MAX_VALUE - sum ? Long.MAX_VALUE : sum + p;
        }
        return sum;
    }

    /** Bytes for people: "850 MB", "12.4 GB". */
    public static String format(long bytes) {
        if (bytes < 1_000_000_000L) {
            return String.format(Locale.ROOT, "%d MB", Math.round(bytes / 1e6));
        }
        return String.format(Locale.ROOT, "%,.1f GB", bytes / 1e9);
    }

    /**
     * The parts, e.g. "runtime 300 MB + weights 4.3 GB + the larger of the UNet step at batch 2 (1.2 GB) and the
     * VAE decode (whole latent: 3.8 GB)".
     */
    public String breakdown() {
        long step = unetActivations();
        String unet = String.format(Locale.ROOT, "the UNet step at batch %d (%s%s)", unetBatch, format(step),
                unetAttention * 100 > step ? ", of which attention " + format(unetAttention) : "");
        String decode = String.format(Locale.ROOT, "the VAE decode (%s: %s)", tiling, format(vaeDecode));
        String base = "runtime " + format(runtime) + " + weights " + format(weights) + " + ";
        if (heldFromDenoising == 0) {
            return base + "the larger of " + unet + " and " + decode;
        }
        return base + unet + ", then " + decode + " on top of up to " + format(heldFromDenoising)
                + " the step freed that malloc may keep";
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%dx%d: about %s at peak = %s", width, height, format(total()),
                breakdown());
    }
}
