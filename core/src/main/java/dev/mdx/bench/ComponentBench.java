package dev.mdx.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.mdx.tensor.FlopCounter;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.AutoencoderKL;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Function;

/** Times one forward pass of each model component on random inputs, counting its matrix work. */
public final class ComponentBench {
    private static final int PROFILE_LINES = 12;
    private final NDManager manager;
    private final double peakGflops;
    private final int warmup;
    private final int repeats;
    private Path profileDir;
    private Consumer<String> profileOut;

    public ComponentBench(NDManager manager, double peakGflops, int warmup, int repeats) {
        this.manager = manager;
        this.peakGflops = peakGflops;
        this.warmup = warmup;
        this.repeats = repeats;
    }

    /**
     * After timing, runs each operation once more under the engine's profiler: the trace goes to {@code dir}
     * (MODEL-OPERATION.json) and the ops with the most self time to {@code out}, one line each.
     */
    public ComponentBench profiling(Path dir, Consumer<String> out) {
        this.profileDir = dir;
        this.profileOut = out;
        return this;
    }

    /** UNet forward at a latent of (batch, in_channels, h, w) with a 77-token context. */
    public BenchRow unet(String model, UNet2DConditionModel unet, int batch, int h, int w) {
        var c = unet.config();
        return time(model, "unet b" + batch + " " + h + "x" + w, scope -> unet.forward(
                scope.randomNormal(new Shape(batch, c.inChannels(), h, w)),
                scope.full(new Shape(batch), 500f),
                scope.randomNormal(new Shape(batch, 77, c.crossAttentionDim().get(0))),
                guidanceEmbedding(scope, c, batch)));
    }

    /** A random guidance embedding for a UNet with time_cond_proj_dim (it costs the same as a real one), else null. */
    private static NDArray guidanceEmbedding(NDManager scope, UNetConfig c, int batch) {
        return c.hasTimeCondProj() ? scope.randomNormal(new Shape(batch, c.timeCondProjDim())) : null;
    }

    /** VAE decode of a latent of (1, latent_channels, h, w). */
    public BenchRow vaeDecode(String model, AutoencoderKL vae, int h, int w) {
        return vaeDecode(model, "vae decode", vae, h, w);
    }

    /** VAE decode of a latent of (1, latent_channels, h, w), reported as "LABEL HxW" with the image size. */
    public BenchRow vaeDecode(String model, String label, AutoencoderKL vae, int h, int w) {
        int f = vae.config().downsampleFactor();
        return time(model, label + " " + h * f + "x" + w * f, scope -> vae.decode(
                scope.randomNormal(new Shape(1, vae.config().latentChannels(), h, w))));
    }

    /**
     * One training step's compute: UNet forward and backward of a mean-squared loss at (batch, in_channels, h, w).
     * The FLOPs reported are 3x the counted forward (the backward of a conv or linear layer is two products of
     * the forward's size), so the rate reads against the same peak.
     */
    public BenchRow unetTrainStep(String model, UNet2DConditionModel unet, int batch, int h, int w) {
        var c = unet.config();
        var params = unet.namedParameters().values();
        params.forEach(p -> p.get().setRequiresGradient(true));
        try {
            Function<NDManager, NDArray> step = scope -> {
                NDArray x = scope.randomNormal(new Shape(batch, c.inChannels(), h, w));
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray out = unet.forward(x, scope.full(new Shape(batch), 500f),
                            scope.randomNormal(new Shape(batch, 77, c.crossAttentionDim().get(0))),
                            guidanceEmbedding(scope, c, batch));
                    collector.backward(out.sub(x).square().mean());
                }
                return params.iterator().next().get().getGradient();
            };
            BenchRow row = time(model, "unet train step b" + batch + " " + h + "x" + w, step);
            return BenchRow.of(row.model(), row.operation(), row.ms(), 3 * row.flops(), peakGflops);
        } finally {
            params.forEach(p -> p.get().setRequiresGradient(false));
        }
    }

    /** Text encoder on a batch of 77 token ids. */
    public BenchRow textEncoder(String model, ClipTextModel text, int batch) {
        int vocab = text.config().vocabSize();
        return time(model, "text encoder b" + batch, scope -> text.forward(
                scope.randomInteger(0, vocab - 1, new Shape(batch, 77), DataType.INT64)).lastHiddenState());
    }

    private BenchRow time(String model, String operation, Function<NDManager, NDArray> forward) {
        long flops;
        try (NDManager scope = manager.newSubManager(); FlopCounter counter = FlopCounter.start()) {
            forward.apply(scope).toFloatArray();
            flops = counter.flops();
        }
        Stopwatch.Timing timing = Stopwatch.median(() -> {
            try (NDManager scope = manager.newSubManager()) {
                forward.apply(scope).toFloatArray();
            }
        }, Math.max(0, warmup - 1), repeats);
        if (profileDir != null) {
            profile(model, operation, forward);
        }
        return BenchRow.of(model, operation, timing, flops, peakGflops);
    }

    private void profile(String model, String operation, Function<NDManager, NDArray> forward) {
        Path trace = profileDir.resolve((model + "-" + operation).replaceAll("[^A-Za-z0-9.()-]+", "_") + ".json");
        try {
            Files.createDirectories(profileDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + profileDir + ": " + e.getMessage(), e);
        }
        OpProfile p = OpProfile.record(trace, () -> {
            try (NDManager scope = manager.newSubManager()) {
                forward.apply(scope).toFloatArray();
            }
        });
        profileOut.accept(String.format(Locale.ROOT, "  %s %s: %.0f ms of op self time by op (trace: %s)", model,
                operation, p.totalSelfMs(), trace));
        p.top(PROFILE_LINES).forEach(line -> profileOut.accept("    " + line));
    }
}
