package dev.mdx.train.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.mdx.train.BatchSource;
import dev.mdx.train.DataPosition;
import dev.mdx.train.Rng;
import dev.mdx.train.data.DatasetException;
import dev.mdx.train.data.ImageDataset;

/**
 * Batches of images from one split of a cached data set in a seeded order that depends only on the position, so a
 * resumed run reads exactly the batches of an uninterrupted one. Gray sets can be widened to RGB by repeating the
 * channel, for a VAE that reads three channels. With a crop size, each image is cut to a random square at an offset
 * that is a multiple of the VAE's downsampling factor (so the crop's latent is a window of the whole image's
 * latent); offsets come from the run's generator, so they are resumed exactly too. The autoencoder is
 * convolutional, so crops train it for whole images at a fraction of the cost (LDM trained its autoencoders at
 * 256x256 and SD uses them at 512x512).
 */
public final class ImageBatches implements BatchSource<NDArray> {
    private final ImageDataset dataset;
    private final int[] pool;
    private final long seed;
    private final int batchSize;
    private final int channels;
    private final int cropSize;
    private final int cropStep;

    /**
     * @param channels channels of the produced images: the data set's own, or 3 for a gray set
     * @param cropSize side of the random square crop, 0 for whole images
     * @param cropStep crop offsets are multiples of this (the VAE's downsampling factor)
     */
    public ImageBatches(ImageDataset dataset, String split, long seed, int batchSize, int channels, int cropSize,
            int cropStep) {
        checkChannels(dataset, channels);
        this.dataset = dataset;
        this.pool = dataset.indices(split);
        if (pool.length == 0) {
            throw new DatasetException(dataset.dir() + ": split '" + split + "' is empty");
        }
        if (batchSize > pool.length) {
            throw new DatasetException(dataset.dir() + ": batch size " + batchSize + " exceeds the " + pool.length
                    + " images of split '" + split + "'");
        }
        if (cropSize < 0 || cropSize > Math.min(dataset.height(), dataset.width()) || cropStep <= 0
                || cropSize % cropStep != 0) {
            throw new DatasetException("crop size " + cropSize + " must be a multiple of " + cropStep + " and fit in the "
                    + dataset.height() + "x" + dataset.width() + " images of " + dataset.dir());
        }
        this.seed = seed;
        this.batchSize = batchSize;
        this.channels = channels;
        this.cropSize = cropSize;
        this.cropStep = cropStep;
    }

    /** Images of the data set can feed a model reading {@code channels} (gray data is repeated into RGB). */
    public static void checkChannels(ImageDataset dataset, int channels) {
        if (channels != dataset.channels() && !(dataset.channels() == 1 && channels == 3)) {
            throw new DatasetException(dataset.dir() + ": images have " + dataset.channels()
                    + " channels but the model reads " + channels);
        }
    }

    @Override
    public Next<NDArray> next(NDManager scope, DataPosition position, Rng rng) {
        DataPosition.Batch taken = position.take(pool, seed, batchSize);
        int[] indices = taken.items();
        NDArray images = images(scope, dataset, indices, channels);
        if (cropSize > 0) {
            images = crop(images, rng);
        }
        return new Next<>(images, taken.next());
    }

    /** (B, C, H, W) -> (B, C, crop, crop), one random window per image. */
    private NDArray crop(NDArray images, Rng rng) {
        int b = Math.toIntExact(images.getShape().get(0));
        NDList parts = new NDList(b);
        for (int i = 0; i < b; i++) {
            int y = rng.nextInt((dataset.height() - cropSize) / cropStep + 1) * cropStep;
            int x = rng.nextInt((dataset.width() - cropSize) / cropStep + 1) * cropStep;
            parts.add(images.get(new NDIndex("{}:{}, :, {}:{}, {}:{}", i, i + 1, y, y + cropSize, x, x + cropSize)));
        }
        return NDArrays.concat(parts, 0);
    }

    /** (B, channels, H, W) in [-1, 1]; a gray image is repeated into every channel. */
    static NDArray images(NDManager manager, ImageDataset dataset, int[] indices, int channels) {
        if (channels == dataset.channels()) {
            return dataset.batch(manager, indices);
        }
        int plane = dataset.height() * dataset.width();
        float[] data = new float[indices.length * channels * plane];
        for (int b = 0; b < indices.length; b++) {
            float[] gray = dataset.image(indices[b]);
            for (int c = 0; c < channels; c++) {
                System.arraycopy(gray, 0, data, (b * channels + c) * plane, plane);
            }
        }
        return manager.create(data, new Shape(indices.length, channels, dataset.height(), dataset.width()));
    }
}
