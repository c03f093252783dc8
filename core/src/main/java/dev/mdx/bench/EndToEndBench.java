package dev.mdx.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.tensor.FlopCounter;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.AutoencoderKL;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One image end to end with a preset's components: the text encoder on a 77-token prompt (and the empty prompt
 * with guidance, as one batch of 2), N UNet calls (batch 2 with classifier-free guidance, whose two halves are
 * combined), each followed by a DDIM update's arithmetic, then the light and the full VAE decoder. Each part is
 * timed on its own inside every run; a row per part and the totals with each decoder, medians (and the fastest and
 * slowest run) over the runs.
 */
public final class EndToEndBench {
    private static final float GUIDANCE_SCALE = 7.5f;
    private static final int TOKENS = 77;
    private final double peakGflops;
    private final int warmup;
    private final int repeats;

    public EndToEndBench(double peakGflops, int warmup, int repeats) {
        this.peakGflops = peakGflops;
        this.warmup = warmup;
        this.repeats = repeats;
    }

    /** The parts of a run, in order; either decoder may be null (not timed), not both. */
    private enum Part { TEXT, UNET, LIGHT, FULL }

    /**
     * @param lightDecoder the light decoder, or null (the preset has none)
     * @param fullDecoder the full decoder, or null to time the light one only
     * @param latent the latent's height and width (image size / VAE factor)
     * @return rows "e2e N steps[ cfg]: PART" for the text encoder, the UNet calls (with the sampler arithmetic),
     *     each decoder, and the totals with the light decoder (when there is one) and with the full one
     */
    public List<BenchRow> run(String model, ClipTextModel text, UNet2DConditionModel unet, AutoencoderKL lightDecoder,
            AutoencoderKL fullDecoder, int latent, int steps, boolean guided, NDManager manager) {
        int batch = guided ? 2 : 1;
        UNetConfig c = unet.config();
        List<Function<NDManager, NDArray>> parts = new ArrayList<>();
        NDArray[] context = new NDArray[1];
        NDArray[] latents = new NDArray[1];
        parts.add(scope -> context[0] = text.forward(randomTokens(scope, text, batch)).lastHiddenState());
        parts.add(scope -> latents[0] = denoise(scope, unet, c, context[0], latent, steps, guided));
        parts.add(scope -> lightDecoder == null ? null : lightDecoder.decode(latents[0]));
        parts.add(scope -> fullDecoder == null ? null : fullDecoder.decode(latents[0]));
        long[] flops = new long[parts.size()];
        try (NDManager scope = manager.newSubManager()) {
            for (int p = 0; p < parts.size(); p++) {
                try (FlopCounter counter = FlopCounter.start()) {
                    read(parts.get(p).apply(scope));
                    flops[p] = counter.flops();
                }
            }
        }
        for (int i = 0; i < Math.max(0, warmup - 1); i++) {
            timeOnce(parts, manager);
        }
        double[][] ms = new double[parts.size()][repeats];
        long cpu0 = Stopwatch.processCpuNanos();
        for (int r = 0; r < repeats; r++) {
            double[] one = timeOnce(parts, manager);
            for (int p = 0; p < parts.size(); p++) {
                ms[p][r] = one[p];
            }
        }
        double cpuPerRun = (Stopwatch.processCpuNanos() - cpu0) / 1e6 / repeats;
        String prefix = "e2e " + steps + (steps == 1 ? " step" : " steps") + (guided ? " cfg" : "") + ": ";
        int f = (fullDecoder != null ? fullDecoder : lightDecoder).config().downsampleFactor();
        String size = latent * f + "x" + latent * f;
        List<BenchRow> rows = new ArrayList<>();
        rows.add(part(model, prefix + "text encoder b" + batch, ms, flops, Part.TEXT));
        rows.add(part(model, prefix + "unet " + steps + " x b" + batch, ms, flops, Part.UNET));
        if (lightDecoder != null) {
            rows.add(part(model, prefix + "vae decode (light) " + size, ms, flops, Part.LIGHT));
        }
        if (fullDecoder != null) {
            rows.add(part(model, prefix + "vae decode " + size, ms, flops, Part.FULL));
        }
        if (lightDecoder != null) {
            rows.add(total(model, prefix + "total, light decoder", ms, flops, cpuPerRun, Part.LIGHT));
        }
        if (fullDecoder != null) {
            rows.add(total(model, prefix + "total, full decoder", ms, flops, cpuPerRun, Part.FULL));
        }
        return rows;
    }

    /** One part's row: the median, fastest and slowest of its runs. */
    private BenchRow part(String model, String operation, double[][] ms, long[] flops, Part part) {
        int p = part.ordinal();
        return BenchRow.of(model, operation, Stopwatch.Timing.of(ms[p], 0), flops[p], peakGflops);
    }

    /**
     * Text, UNet and one decoder: the median of the per-run sums. The CPU time is the whole run's (both decoders),
     * so it is reported on the totals only as an upper bound of either.
     */
    private BenchRow total(String model, String operation, double[][] ms, long[] flops, double cpuPerRun,
            Part decoder) {
        int d = decoder.ordinal();
        double[] sums = new double[ms[0].length];
        for (int r = 0; r < sums.length; r++) {
            sums[r] = ms[Part.TEXT.ordinal()][r] + ms[Part.UNET.ordinal()][r] + ms[d][r];
        }
        long f = flops[Part.TEXT.ordinal()] + flops[Part.UNET.ordinal()] + flops[d];
        return BenchRow.of(model, operation, Stopwatch.Timing.of(sums, cpuPerRun), f, peakGflops);
    }

    /** Each part's wall ms in one run; every part reads its result back, as a pipeline does at the end. */
    private static double[] timeOnce(List<Function<NDManager, NDArray>> parts, NDManager manager) {
        double[] ms = new double[parts.size()];
        try (NDManager scope = manager.newSubManager()) {
            for (int p = 0; p < parts.size(); p++) {
                Function<NDManager, NDArray> part = parts.get(p);
                ms[p] = Stopwatch.onceMs(() -> read(part.apply(scope)));
            }
        }
        return ms;
    }

    /** Makes sure the work is done (libtorch's CPU ops are synchronous; reading one element is enough). */
    private static void read(NDArray result) {
        if (result != null) {
            result.get(0).toFloatArray();
        }
    }

    /**
     * N UNet calls on a random starting latent, each followed by the guidance combination (with cfg) and a DDIM
     * step's arithmetic in fp32, x = a x + b eps with the step's coefficients. The timesteps and the coefficients
     * are those of a linear 1000-step schedule: the cost does not depend on their values.
     *
     * @return the final latent (1, C, latent, latent)
     */
    private static NDArray denoise(NDManager scope, UNet2DConditionModel unet, UNetConfig c, NDArray context,
            int latent, int steps, boolean guided) {
        int batch = guided ? 2 : 1;
        NDArray x = scope.randomNormal(new Shape(1, c.inChannels(), latent, latent));
        NDArray guidance = c.hasTimeCondProj() ? scope.randomNormal(new Shape(batch, c.timeCondProjDim())) : null;
        for (int i = 0; i < steps; i++) {
            // each step's activations hang off its latent and are freed with the step, as a pipeline frees them
            // (kept to the end, 20 guided SD-1.5 steps held 17 GB)
            try (NDManager step = scope.newSubManager()) {
                x.attach(step);
                float t = 999f - i * (1000f / steps);
                NDArray in = guided ? x.repeat(0, 2) : x; // the same latent for both halves
                NDArray eps = unet.forward(in, step.full(new Shape(batch), t), context, guidance);
                if (guided) {
                    NDList halves = eps.split(2);
                    NDArray uncond = halves.get(0);
                    eps = uncond.add(halves.get(1).sub(uncond).mul(GUIDANCE_SCALE));
                }
                float alpha = 1f - t / 1000f;
                NDArray next = x.mul((float) Math.sqrt(1 - 0.5 * alpha)).add(eps.mul((float) (0.1 + alpha)));
                next.attach(scope);
                x = next;
            }
        }
        return x;
    }

    private static NDArray randomTokens(NDManager scope, ClipTextModel text, int batch) {
        int tokens = Math.min(TOKENS, text.config().maxPositionEmbeddings());
        return scope.randomUniform(0, text.config().vocabSize() - 1, new Shape(batch, tokens))
                .toType(DataType.INT64, false);
    }
}
