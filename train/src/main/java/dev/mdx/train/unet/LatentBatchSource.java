package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.train.BatchSource;
import dev.mdx.train.DataPosition;
import dev.mdx.train.Rng;
import java.util.ArrayList;
import java.util.List;

/**
 * Batches of cached latents with one of each example's captions, in a seeded order that is a pure function of
 * the data position (epoch e is permutation e of the examples), so a resumed run reads the same batches.
 */
public final class LatentBatchSource implements BatchSource<LatentBatch> {
    private final float[] latents;
    private final Shape latentShape;
    private final List<List<String>> captions;
    private final int batchSize;
    private final double captionDropout;
    private final long seed;

    /**
     * @param latents (N, C, h, w) flattened, already multiplied by the scaling factor
     * @param captions per example, one or more caption variants
     */
    public LatentBatchSource(float[] latents, Shape latentShape, List<List<String>> captions, int batchSize,
            double captionDropout, long seed) {
        if (latentShape.size() * captions.size() != latents.length) {
            throw new IllegalArgumentException(captions.size() + " examples of " + latentShape + " need "
                    + latentShape.size() * captions.size() + " values, got " + latents.length);
        }
        if (batchSize < 1 || batchSize > captions.size()) {
            throw new IllegalArgumentException("batch size " + batchSize + " must be in 1.." + captions.size());
        }
        this.latents = latents;
        this.latentShape = latentShape;
        this.captions = captions;
        this.batchSize = batchSize;
        this.captionDropout = captionDropout;
        this.seed = seed;
    }

    /** (C, h, w) of one example. */
    public Shape latentShape() {
        return latentShape;
    }

    public int batchSize() {
        return batchSize;
    }

    public int size() {
        return captions.size();
    }

    @Override
    public Next<LatentBatch> next(NDManager scope, DataPosition position, Rng rng) {
        return next(scope, position, rng, new int[batchSize]);
    }

    /** As {@link #next(NDManager, DataPosition, Rng)}, writing the batch's example indices into {@code examples}. */
    Next<LatentBatch> next(NDManager scope, DataPosition position, Rng rng, int[] examples) {
        int n = captions.size();
        long epoch = position.epoch();
        long index = position.index();
        if (index + batchSize > n) { // drop the ragged tail: every batch has the same size
            epoch++;
            index = 0;
        }
        int[] order = permutation(n, epoch);
        int per = (int) latentShape.size();
        float[] data = new float[batchSize * per];
        List<String> texts = new ArrayList<>(batchSize);
        for (int i = 0; i < batchSize; i++) {
            int example = order[(int) index + i];
            examples[i] = example;
            System.arraycopy(latents, example * per, data, i * per, per);
            List<String> variants = captions.get(example);
            String caption = variants.get(rng.nextInt(variants.size()));
            texts.add(rng.nextDouble() < captionDropout ? "" : caption);
        }
        long[] dims = new long[latentShape.dimension() + 1];
        dims[0] = batchSize;
        System.arraycopy(latentShape.getShape(), 0, dims, 1, latentShape.dimension());
        NDArray batch = scope.create(data, new Shape(dims));
        return new Next<>(new LatentBatch(batch, texts), new DataPosition(epoch, index + batchSize));
    }

    /** Fisher-Yates with a generator seeded by (seed, epoch): the same epoch always has the same order. */
    private int[] permutation(int n, long epoch) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        Rng r = Rng.derived(seed, 0x6c61_7465_6e74L, epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
