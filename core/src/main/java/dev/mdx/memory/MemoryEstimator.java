package dev.mdx.memory;

import dev.mdx.inspect.TextEncoderCost;
import dev.mdx.inspect.UNetCost;
import dev.mdx.inspect.VaeCost;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.VaeConfig;
import dev.mdx.vae.VaeTiling;
import java.util.Locale;
import java.util.Optional;

/**
 * Estimates the peak resident memory of a generation request from the model configs alone, before anything is
 * allocated: the weights, the UNet step's activations at the largest resolution (where attention's query chunks and
 * the skip connections add up) and the VAE decode, walking each forward pass op by op as the code allocates
 * (see {@link UNetActivations}, {@link VaeDecodeActivations}). Sizes are computed in floating point, so an absurd
 * request gives a huge estimate instantly instead of overflowing. Calibrated against measured peak RSS
 * (docs/BENCHMARKS.md, "Memory"): an upper bound within about 1.5x of measurement for the sizes that matter.
 *
 * <p>Use: build one per loaded model, then {@link #estimate} or {@link #check} each request.
 */
public final class MemoryEstimator {
    /**
     * Resident memory of the JVM and libtorch besides the weights: 0.17 GB once the engine has run an op, plus
     * 0.02-0.06 GB of classes, heap and loading buffers once a model is loaded (measured), rounded up.
     */
    public static final long RUNTIME_BYTES = 250_000_000L;

    /**
     * What a phase adds beyond its arrays (oneDNN's kernels and caches, libtorch's per-thread buffers, weights
     * reordered for a convolution): measured up to 0.16 GB above the arrays' resident share; counted once per phase.
     */
    static final long ENGINE_BUFFERS_BYTES = 200_000_000L;

    /**
     * The part of a UNet step's activations that malloc still holds when a decode that follows without
     * {@link NativeMemory#releaseFreed()} makes its own arrays: measured between none and about half (a decode
     * reuses the freed blocks its arrays fit in), rounded up.
     */
    static final double HELD_FRACTION = 0.6;

    /**
     * The decoded image's conversion to 8-bit RGB per pixel: the decoded float32 image, its scaled, shifted and
     * clamped copies, the contiguous copy that is read back, the Java float array and the RGB bytes
     * (Images.toRgb): 6 x 12 + 3 bytes, rounded up.
     */
    static final double CONVERSION_BYTES_PER_PIXEL = 80;

    /**
     * What a tiled decode holds besides the running tile, per image pixel: the decoded tiles of the current row,
     * the joined rows so far and their overlaps (3 float32 channels, about three copies).
     */
    static final double TILED_OUTPUT_BYTES_PER_PIXEL = 36;

    /** Tile sides tried when the whole decode does not fit, in latent pixels (64 is diffusers' SD tile). */
    private static final int[] TILE_SIZES = {128, 96, 64, 48, 32, 16, 8};

    /** Suggested sizes are multiples of this many latent pixels (64 image pixels for an 8x VAE). */
    private static final long SIZE_STEP_LATENT = 8;

    private final UNetConfig unet;
    private final VaeConfig vae;
    private final ClipTextConfig text;
    private final long weights;
    private final boolean releasedBetweenPhases;
    /** Chunks of the text encoder's length the prompts are encoded in; cross-attention reads all of them. */
    private final int promptChunks;
    /** bf16 runs keep a bfloat16 copy of each layer's weights beside the fp32 ones (dev.mdx.tensor.Precision). */
    private final boolean bf16WeightCopies;

    /**
     * An estimator for a pipeline that decodes right after denoising, so that memory the UNet step freed may still
     * be held by malloc during the decode (the decode's peak is then counted on top of the step's).
     *
     * @param text the text encoder's config; its sequence length is the context length of cross-attention
     */
    public MemoryEstimator(UNetConfig unet, VaeConfig vae, ClipTextConfig text) {
        this(unet, vae, text, false, 1, false);
    }

    private MemoryEstimator(UNetConfig unet, VaeConfig vae, ClipTextConfig text, boolean releasedBetweenPhases,
            int promptChunks, boolean bf16WeightCopies) {
        this.bf16WeightCopies = bf16WeightCopies;
        this.unet = unet;
        this.vae = vae;
        this.text = text;
        this.releasedBetweenPhases = releasedBetweenPhases;
        this.promptChunks = promptChunks;
        int context = text.maxPositionEmbeddings();
        long params = UNetCost.of(unet, 1, 8, 8, context).params() + TextEncoderCost.of(text, 1, context).params()
                + VaeCost.encoder(vae, 1, 8, 8).params() + VaeCost.decoder(vae, "vae decoder", 1, 8, 8).params();
        // a bf16 copy is 2 bytes per parameter on top of fp32's 4 (counted for every layer: an upper bound, as
        // normalisations keep fp32 only)
        this.weights = params * (long) Layers.FLOAT + (bf16WeightCopies ? params * 2L : 0);
    }

    /**
     * The estimator for a pipeline that calls {@link NativeMemory#releaseFreed()} between the last UNet step and the
     * decode: each phase then starts from the weights alone, and the peak is the larger phase, not their sum.
     */
    public MemoryEstimator releasingBetweenPhases() {
        return new MemoryEstimator(unet, vae, text, true, promptChunks, bf16WeightCopies);
    }

    /**
     * The estimator for prompts of {@code chunks} chunks (long prompts): each chunk is a text-encoder pass of its own,
     * and cross-attention reads a context of chunks times the encoder's length.
     */
    public MemoryEstimator forPromptChunks(int chunks) {
        if (chunks < 1) {
            throw new IllegalArgumentException("a prompt has at least one chunk, got " + chunks);
        }
        return chunks == promptChunks ? this
                : new MemoryEstimator(unet, vae, text, releasedBetweenPhases, chunks, bf16WeightCopies);
    }

    /** The estimator for a bf16 run, whose layers hold a bfloat16 copy of their weights besides the fp32 ones. */
    public MemoryEstimator withBf16WeightCopies() {
        return bf16WeightCopies ? this
                : new MemoryEstimator(unet, vae, text, releasedBetweenPhases, promptChunks, true);
    }

    /** The loaded weights in bytes (float32, plus the bfloat16 copies of a bf16 run). */
    public long weightBytes() {
        return weights;
    }

    /**
     * @param unetBatch samples per UNet call: 2 with classifier-free guidance, else 1
     * @param height image height in pixels (the latent is height / the VAE's factor)
     * @param width image width in pixels
     * @param tiling how the VAE decodes; {@link VaeTiling#NONE} for whole
     */
    public MemoryEstimate estimate(int unetBatch, int height, int width, VaeTiling tiling) {
        if (unetBatch < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("batch and image size must be positive: batch " + unetBatch + ", "
                    + width + "x" + height);
        }
        int factor = vae.downsampleFactor();
        long latentH = Math.max(1, height / factor);
        long latentW = Math.max(1, width / factor);
        int length = text.maxPositionEmbeddings();
        int context = length * promptChunks;

        Tally step = new Tally();
        UNetActivations.walk(step, unet, unetBatch, latentH, latentW, context);
        long attention = saturate(step.peakAttention());
        long features = saturate(ENGINE_BUFFERS_BYTES + step.peak() - step.peakAttention());
        long held = releasedBetweenPhases ? 0 : saturate(HELD_FRACTION * (ENGINE_BUFFERS_BYTES + step.peak()));

        return new MemoryEstimate(unetBatch, height, width, tiling, RUNTIME_BYTES, weights,
                saturate(ENGINE_BUFFERS_BYTES + Tally.HEAP_OVERHEAD * textEncoder(unetBatch * promptChunks, length)),
                features,
                attention, saturate(ENGINE_BUFFERS_BYTES + decode(latentH, latentW, factor, tiling)), held);
    }

    /**
     * The estimate of the request, if it fits in {@code limit}.
     *
     * @throws InsufficientMemoryException when it does not: the message has the estimate by part, the limit and
     *     its source, and what would fit (decoding in tiles when only the decode is too large, else the largest
     *     image of the same shape)
     */
    public MemoryEstimate check(int unetBatch, int height, int width, VaeTiling tiling, MemoryLimit limit) {
        MemoryEstimate e = estimate(unetBatch, height, width, tiling);
        if (e.total() <= limit.bytes()) {
            return e;
        }
        VaeTiling tiles = tilingThatFits(unetBatch, height, width, limit).orElse(null);
        StringBuilder m = new StringBuilder(String.format(Locale.ROOT, "a %dx%d image needs about %s of memory at"
                + " its peak, but this machine can give %s (%s). Estimate: %s.", width, height,
                MemoryEstimate.format(e.total()), MemoryEstimate.format(limit.bytes()), limit.source(), e.breakdown()));
        if (tiles != null) {
            MemoryEstimate tiled = estimate(unetBatch, height, width, tiles);
            int px = tiles.tileLatentSize() * vae.downsampleFactor();
            m.append(String.format(Locale.ROOT, " Only the VAE decode is too large: with the VAE decoding in tiles of"
                    + " %dx%d pixels the request needs about %s.", px, px, MemoryEstimate.format(tiled.total())));
        } else {
            m.append(' ').append(smallerSize(unetBatch, height, width, limit));
        }
        throw new InsufficientMemoryException(m.toString(), e, limit, tiles);
    }

    /**
     * How the VAE should decode for the request to fit in {@code limit}: {@link VaeTiling#NONE} when the whole
     * decode fits, else the largest tile that does (tiles of 128 down to 8 latent pixels); empty when the
     * denoising itself does not fit, or no tile is small enough.
     */
    public Optional<VaeTiling> tilingThatFits(int unetBatch, int height, int width, MemoryLimit limit) {
        MemoryEstimate whole = estimate(unetBatch, height, width, VaeTiling.NONE);
        if (whole.denoisePhase() > limit.bytes()) {
            return Optional.empty();
        }
        if (whole.decodePhase() <= limit.bytes()) {
            return Optional.of(VaeTiling.NONE);
        }
        int factor = vae.downsampleFactor();
        long latentSide = Math.max(height, width) / factor;
        for (int tile : TILE_SIZES) {
            if (tile < latentSide) {
                VaeTiling tiling = VaeTiling.latentTiles(tile);
                if (estimate(unetBatch, height, width, tiling).decodePhase() <= limit.bytes()) {
                    return Optional.of(tiling);
                }
            }
        }
        return Optional.empty();
    }

    /** "The largest image of this shape that fits is about WxH[, with the VAE decoded in tiles]." or why none does. */
    private String smallerSize(int unetBatch, int height, int width, MemoryLimit limit) {
        long step = SIZE_STEP_LATENT * vae.downsampleFactor();
        double longer = Math.max(height, width);
        long lo = 0;
        long hi = (long) Math.ceil(longer / step);
        // the largest n for which the image with its longer side n * step fits (binary search: fitting shrinks
        // with size)
        while (lo < hi) {
            long mid = (lo + hi + 1) / 2;
            int[] size = scaled(height, width, mid * step / longer, step);
            if (tilingThatFits(unetBatch, size[0], size[1], limit).isPresent()) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if (lo == 0) {
            int[] size = scaled(height, width, step / longer, step);
            return String.format(Locale.ROOT, "Even a %dx%d image does not fit: the runtime and the weights alone"
                    + " need %s.", size[1], size[0], MemoryEstimate.format(MemoryEstimate.saturatedSum(RUNTIME_BYTES,
                    weights)));
        }
        int[] size = scaled(height, width, lo * step / longer, step);
        boolean tiled = !tilingThatFits(unetBatch, size[0], size[1], limit).orElseThrow().equals(VaeTiling.NONE);
        return String.format(Locale.ROOT, "The largest image of this shape that fits is about %dx%d%s.", size[1],
                size[0], tiled ? ", with the VAE decoded in tiles" : "");
    }

    /** (height, width) scaled by {@code s} and rounded down to multiples of {@code step}, at least one step. */
    private static int[] scaled(int height, int width, double s, long step) {
        return new int[] {(int) Math.max(step, Math.floor(height * s / step) * step),
                (int) Math.max(step, Math.floor(width * s / step) * step)};
    }

    /** The VAE decode of one image, with its conversion to RGB. */
    private double decode(long latentH, long latentW, int factor, VaeTiling tiling) {
        double pixels = (double) latentH * factor * latentW * factor;
        Tally t = new Tally();
        if (!tiling.splits(latentH, latentW)) {
            VaeDecodeActivations.walk(t, vae, latentH, latentW);
            t.hold(CONVERSION_BYTES_PER_PIXEL * pixels);
            return t.peak();
        }
        t.hold(TILED_OUTPUT_BYTES_PER_PIXEL * pixels);
        VaeDecodeActivations.walk(t, vae, Math.min(latentH, tiling.tileLatentSize()),
                Math.min(latentW, tiling.tileLatentSize()));
        // the last join: the rows and the whole image, then the conversion
        return Math.max(t.peak(), Tally.resident((12 + CONVERSION_BYTES_PER_PIXEL) * pixels));
    }

    /**
     * CLIP's forward holds every layer's arrays until it returns: per layer about 12 arrays of the hidden width and
     * 4 of the MLP's (fc1 and quick_gelu's three), plus the masked scores, softmax and their sum.
     */
    private double textEncoder(int batch, int length) {
        double tokens = (double) batch * length;
        double perLayer = tokens * (12.0 * text.hiddenSize() + 4.0 * text.intermediateSize())
                + 3.0 * batch * text.numAttentionHeads() * length * length;
        return Layers.bytes(perLayer * text.numHiddenLayers());
    }

    static long saturate(double bytes) {
        return bytes >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) Math.ceil(bytes);
    }
}
