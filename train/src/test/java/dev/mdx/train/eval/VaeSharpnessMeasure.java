package dev.mdx.train.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.DataOrder;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.vae.AutoencoderKL;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * A measurement program (not a test): the high-frequency energy ({@link Sharpness}) of real test images and of the
 * same images encoded by a VAE and decoded by each given decoder: the ceiling a latent model can reach.
 * Args: DATASET N ENCODER_VAE_DIR DECODER_VAE_DIR... (the same items as {@code mdx eval}'s held-out prompts).
 */
public final class VaeSharpnessMeasure {
    public static void main(String[] args) {
        ImageDataset data = ImageDataset.open(Path.of(args[0]));
        int n = Integer.parseInt(args[1]);
        int[] items = DataOrder.sample(data.indices(DatasetItem.TEST), n, Evaluation.PROMPT_ORDER_SEED);
        float[][] real = Arrays.stream(items).mapToObj(data::image).toArray(float[][]::new);
        int c = data.channels();
        System.out.printf(Locale.ROOT, "real test images (%d): Laplacian variance %.4f%n", items.length,
                Sharpness.mean(real, c, data.height(), data.width()));
        try (NDManager m = NDManager.newBaseManager()) {
            AutoencoderKL encoder = AutoencoderKL.load(Path.of(args[2]), m);
            NDArray batch = data.batch(m, items);
            if (c == 1 && encoder.config().inChannels() == 3) {
                batch = ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(batch, batch, batch), 1);
            }
            NDArray latents = encoder.encode(batch).mean();
            for (int a = 3; a < args.length; a++) {
                AutoencoderKL decoder = AutoencoderKL.load(Path.of(args[a]), m);
                NDArray images = decoder.decode(latents).clip(-1, 1);
                float[][] rec = new float[items.length][];
                for (int i = 0; i < items.length; i++) {
                    NDArray one = images.get(i);
                    // a gray data set: the mean of the decoded RGB, as mdx eval reads generated images
                    rec[i] = (c == 1 && one.getShape().get(0) == 3 ? one.mean(new int[] {0}) : one).toFloatArray();
                }
                System.out.printf(Locale.ROOT, "through %s: Laplacian variance %.4f%n", args[a],
                        Sharpness.mean(rec, c, data.height(), data.width()));
            }
        }
    }
}
