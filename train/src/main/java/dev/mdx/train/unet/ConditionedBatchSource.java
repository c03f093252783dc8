package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.control.ConditionType;
import dev.mdx.pipeline.GrayImage;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.train.BatchSource;
import dev.mdx.train.DataPosition;
import dev.mdx.train.Rng;
import dev.mdx.train.data.ImageDataset;
import java.io.PrintStream;

/**
 * Latent batches with the condition map of each example's image, in the latent source's order (so a resumed run
 * reads the same pairs). The maps are extracted once, when the source is made, and kept as bytes.
 */
public final class ConditionedBatchSource implements BatchSource<ConditionedBatch> {
    private final LatentBatchSource latents;
    /** (N, H, W) maps, one per example of {@code latents}, 0 or 255 (or grey for a ready map). */
    private final byte[] maps;
    private final int height;
    private final int width;

    ConditionedBatchSource(LatentBatchSource latents, byte[] maps, int height, int width) {
        if ((long) latents.size() * height * width != maps.length) {
            throw new IllegalArgumentException(latents.size() + " maps of " + width + "x" + height + " need "
                    + (long) latents.size() * height * width + " bytes, got " + maps.length);
        }
        this.latents = latents;
        this.maps = maps;
        this.height = height;
        this.width = width;
    }

    /** The {@code type} maps of the data set's images {@code indices} (the latent source's examples, in order). */
    static ConditionedBatchSource extract(LatentBatchSource latents, ImageDataset data, int[] indices,
            ConditionType type, PrintStream log) {
        int w = data.width();
        int h = data.height();
        byte[] maps = new byte[indices.length * w * h];
        long start = System.nanoTime();
        for (int k = 0; k < indices.length; k++) {
            GrayImage map = type.extract(new RgbImage(w, h, data.rgb(indices[k])));
            System.arraycopy(map.values(), 0, maps, k * w * h, w * h);
        }
        log.printf("extracted %d %s maps in %.1f s%n", indices.length, type, (System.nanoTime() - start) / 1e9);
        return new ConditionedBatchSource(latents, maps, h, w);
    }

    public int size() {
        return latents.size();
    }

    @Override
    public Next<ConditionedBatch> next(NDManager scope, DataPosition position, Rng rng) {
        int[] examples = new int[latents.batchSize()];
        Next<LatentBatch> n = latents.next(scope, position, rng, examples);
        int per = height * width;
        float[] f = new float[examples.length * per];
        for (int i = 0; i < examples.length; i++) {
            for (int p = 0; p < per; p++) {
                f[i * per + p] = (maps[examples[i] * per + p] & 0xff) / 255f;
            }
        }
        NDArray conditions = scope.create(f, new Shape(examples.length, 1, height, width));
        return new Next<>(new ConditionedBatch(n.batch(), conditions), n.position());
    }
}
