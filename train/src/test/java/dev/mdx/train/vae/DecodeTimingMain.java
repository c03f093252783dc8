package dev.mdx.train.vae;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.bench.Stopwatch;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import java.nio.file.Path;

/**
 * Decode time of vae/ folders, batch 1, in one process: median of 5 (after one warm-up) at the data size and of
 * 3 at 512x512. Used for the table in docs/TRAINING.md:
 * {@code java -cp <test classpath> dev.mdx.train.vae.DecodeTimingMain models/emoji/vae models/emoji/vae_light ...}
 */
public final class DecodeTimingMain {
    private DecodeTimingMain() {}

    public static void main(String[] dirs) {
        try (NDManager weights = NDManager.newBaseManager()) {
            for (String dir : dirs) {
                AutoencoderKL vae = AutoencoderKL.load(Path.of(dir), weights);
                VaeConfig c = vae.config();
                int[] sizes = {c.sampleSize(), 512};
                double[] ms = new double[2];
                for (int k = 0; k < 2; k++) {
                    int latent = sizes[k] / c.downsampleFactor();
                    Shape shape = new Shape(1, c.latentChannels(), latent, latent);
                    ms[k] = Stopwatch.median(() -> {
                        try (NDManager scope = weights.newSubManager()) {
                            vae.decode(scope.randomNormal(shape)).toFloatArray();
                        }
                    }, 1, k == 0 ? 5 : 3).wallMs();
                }
                System.out.printf("%s: decoder %d params; decode %dx%d %.1f ms, 512x512 %.0f ms%n", dir,
                        vae.decoder().parameterCount(), sizes[0], sizes[0], ms[0], ms[1]);
            }
        }
    }
}
