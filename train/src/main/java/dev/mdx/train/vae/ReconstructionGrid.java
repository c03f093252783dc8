package dev.mdx.train.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.train.SampleGrid;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.vae.AutoencoderKL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A PNG for judging autoencoders by eye: a row of real images, then one row per VAE with its reconstructions
 * (posterior mean, decoded, rounded to 8 bits as the pipeline writes them).
 */
public final class ReconstructionGrid {
    public static final String FILE = "reconstructions.png";

    private ReconstructionGrid() {}

    public static void write(Path png, ImageDataset dataset, int[] items, List<AutoencoderKL> vaes, int channels,
            NDManager parent) {
        List<byte[]> tiles = new ArrayList<>();
        int height;
        int width;
        try (NDManager scope = parent.newSubManager()) {
            NDArray images = ImageBatches.images(scope, dataset, items, channels); // (n, C, H, W) in [-1, 1]
            height = Math.toIntExact(images.getShape().get(2));
            width = Math.toIntExact(images.getShape().get(3));
            tiles.addAll(rgbTiles(images));
            for (AutoencoderKL vae : vaes) {
                tiles.addAll(rgbTiles(vae.decode(vae.encode(images).mode())));
            }
        }
        SampleGrid.write(png, tiles, width, height, items.length, 2,
                Map.of("Description", "rows: real, then the reconstructions of " + vaes.size() + " VAE(s)"));
    }

    /** (n, C, H, W) in [-1, 1], C = 1 or 3 -> n interleaved 8-bit RGB images. */
    private static List<byte[]> rgbTiles(NDArray batch) {
        long[] s = batch.getShape().getShape();
        int n = (int) s[0];
        int c = (int) s[1];
        int hw = (int) (s[2] * s[3]);
        float[] v = batch.toFloatArray();
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] rgb = new byte[hw * 3];
            for (int p = 0; p < hw; p++) {
                for (int k = 0; k < 3; k++) {
                    rgb[p * 3 + k] = (byte) VaeMetrics.toByte(v[(i * c + Math.min(k, c - 1)) * hw + p]);
                }
            }
            out.add(rgb);
        }
        return out;
    }
}
