package dev.mdx.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.tensor.FlopCounter;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.vae.AutoencoderKL;
import java.util.function.Function;

/** Times one forward pass of each model component on random inputs, counting its matrix work. */
public final class ComponentBench {
    private final NDManager manager;
    private final double peakGflops;
    private final int warmup;
    private final int repeats;

    public ComponentBench(NDManager manager, double peakGflops, int warmup, int repeats) {
        this.manager = manager;
        this.peakGflops = peakGflops;
        this.warmup = warmup;
        this.repeats = repeats;
    }

    /** UNet forward at a latent of (batch, in_channels, h, w) with a 77-token context. */
    public BenchRow unet(String model, UNet2DConditionModel unet, int batch, int h, int w) {
        var c = unet.config();
        return time(model, "unet b" + batch + " " + h + "x" + w, scope -> unet.forward(
                scope.randomNormal(new Shape(batch, c.inChannels(), h, w)),
                scope.full(new Shape(batch), 500f),
                scope.randomNormal(new Shape(batch, 77, c.crossAttentionDim().get(0)))));
    }

    /** VAE decode of a latent of (1, latent_channels, h, w). */
    public BenchRow vaeDecode(String model, AutoencoderKL vae, int h, int w) {
        int f = vae.config().downsampleFactor();
        return time(model, "vae decode " + h * f + "x" + w * f, scope -> vae.decode(
                scope.randomNormal(new Shape(1, vae.config().latentChannels(), h, w))));
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
        return BenchRow.of(model, operation, timing, flops, peakGflops);
    }
}
