package dev.mdx.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.function.UnaryOperator;

/**
 * One finished sampler step, as seen by a {@link StepCallback}. Valid only during {@code onStep}: the previews read
 * the step's arrays, which are freed when the callback returns.
 */
public final class StepEvent {
    private final int imageIndex;
    private final int imageCount;
    private final int step;
    private final int totalSteps;
    private final float timestep;
    private final long seed;
    private final double unetMs;
    private final NDArray denoised;
    private final UnaryOperator<NDArray> decoder;
    private boolean open = true;
    private boolean cancelled;

    StepEvent(int imageIndex, int imageCount, int step, int totalSteps, float timestep, long seed, double unetMs,
            NDArray denoised, UnaryOperator<NDArray> decoder) {
        this.imageIndex = imageIndex;
        this.imageCount = imageCount;
        this.step = step;
        this.totalSteps = totalSteps;
        this.timestep = timestep;
        this.seed = seed;
        this.unetMs = unetMs;
        this.denoised = denoised;
        this.decoder = decoder;
    }

    /** The image of the batch (0-based) this step belongs to. */
    public int imageIndex() {
        return imageIndex;
    }

    public int imageCount() {
        return imageCount;
    }

    /** The step just finished, 0-based. */
    public int step() {
        return step;
    }

    public int totalSteps() {
        return totalSteps;
    }

    /** Steps finished over the whole batch, 1-based: for a progress bar of {@code imageCount * totalSteps}. */
    public int completedOfBatch() {
        return imageIndex * totalSteps + step + 1;
    }

    /** The model timestep of this step. */
    public float timestep() {
        return timestep;
    }

    /** The seed of the image being generated. */
    public long seed() {
        return seed;
    }

    /** The time of this step's UNet evaluation in milliseconds. */
    public double unetMs() {
        return unetMs;
    }

    /** Asks the pipeline to stop after this step; it then throws {@link GenerationCancelledException}. */
    public void cancel() {
        cancelled = true;
    }

    public boolean cancelled() {
        return cancelled;
    }

    /**
     * A very cheap preview at latent resolution (H/f x W/f): the first three channels of the step's estimate of the
     * clean latent, each stretched to 0-255. It shows layout, not true colours; no model runs.
     */
    public RgbImage previewLatents() {
        requireOpen();
        long[] s = denoised.getShape().getShape(); // (1, C, h, w)
        int channels = (int) s[1];
        int h = (int) s[2];
        int w = (int) s[3];
        float[] v = denoised.toType(DataType.FLOAT32, false).toFloatArray();
        byte[] rgb = new byte[h * w * 3];
        for (int c = 0; c < 3; c++) {
            int src = Math.min(c, channels - 1);
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (int p = 0; p < h * w; p++) {
                min = Math.min(min, v[src * h * w + p]);
                max = Math.max(max, v[src * h * w + p]);
            }
            float range = max > min ? max - min : 1f;
            for (int p = 0; p < h * w; p++) {
                rgb[p * 3 + c] = (byte) Math.round((v[src * h * w + p] - min) / range * 255f);
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /**
     * The step's estimate of the clean image through the VAE decoder at full resolution: what the image would be if
     * sampling stopped here. Costs one VAE decode (as much as several UNet steps at SD sizes).
     */
    public RgbImage previewDecoded() {
        requireOpen();
        try (NDManager scope = denoised.getManager().newSubManager()) {
            NDArray x0 = denoised.duplicate();
            x0.attach(scope);
            return Images.toRgb(decoder.apply(x0)).get(0);
        }
    }

    void close() {
        open = false;
    }

    private void requireOpen() {
        if (!open) {
            throw new IllegalStateException("step previews are only available inside StepCallback.onStep");
        }
    }
}
