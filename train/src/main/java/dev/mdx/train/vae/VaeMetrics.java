package dev.mdx.train.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.train.Rng;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.LatentDistribution;
import java.util.Arrays;

/** Measurements of a trained autoencoder on a data set: reconstruction PSNR and the latents' scale. */
public final class VaeMetrics {
    /** PSNR of a pixel-exact reconstruction, where the formula would give infinity. */
    static final double PSNR_CAP_DB = 100.0;

    private VaeMetrics() {}

    /** Statistics of posterior samples over all latent elements; {@code 1 / std} is SD's scaling factor. */
    public record LatentStats(long images, long elements, double mean, double std) {
        public double scalingFactor() {
            return 1.0 / std;
        }
    }

    /**
     * Mean over images of the reconstruction PSNR in dB, each image encoded to its posterior mean and decoded,
     * both images rounded to 8 bits as the pipeline writes them: {@code 10 log10(255^2 / MSE)}.
     */
    public static double psnr(AutoencoderKL vae, ImageDataset dataset, int[] indices, int channels, int batch,
            NDManager parent) {
        double sum = 0;
        for (int start = 0; start < indices.length; start += batch) {
            int[] part = Arrays.copyOfRange(indices, start, Math.min(indices.length, start + batch));
            try (NDManager scope = parent.newSubManager()) {
                NDArray images = ImageBatches.images(scope, dataset, part, channels);
                NDArray decoded = vae.decode(vae.encode(images).mode());
                for (double p : psnrPerImage(images, decoded)) {
                    sum += p;
                }
            }
        }
        return sum / indices.length;
    }

    /** Per-image PSNR of two (B, C, H, W) batches in [-1, 1] after clamping and rounding both to 8 bits. */
    static double[] psnrPerImage(NDArray reference, NDArray decoded) {
        Shape s = reference.getShape();
        if (!s.equals(decoded.getShape())) {
            throw new IllegalArgumentException("shapes differ: " + s + " vs " + decoded.getShape());
        }
        int b = Math.toIntExact(s.get(0));
        int per = Math.toIntExact(s.size() / b);
        float[] ref = reference.toType(DataType.FLOAT32, false).toFloatArray();
        float[] out = decoded.toType(DataType.FLOAT32, false).toFloatArray();
        double[] psnr = new double[b];
        for (int i = 0; i < b; i++) {
            double se = 0;
            for (int j = i * per; j < (i + 1) * per; j++) {
                double d = toByte(ref[j]) - toByte(out[j]);
                se += d * d;
            }
            double mse = se / per;
            psnr[i] = mse == 0 ? PSNR_CAP_DB : Math.min(PSNR_CAP_DB, 10 * Math.log10(255.0 * 255.0 / mse));
        }
        return psnr;
    }

    /** [-1, 1] -> 0..255 as diffusers' image processor rounds it. */
    static int toByte(float v) {
        float unit = Math.min(1f, Math.max(0f, v / 2f + 0.5f));
        return Math.round(unit * 255f);
    }

    /**
     * Mean and standard deviation of posterior samples (mean + std * noise, noise from {@code rng}) of the given
     * images, over every latent element, as SD measured its scaling factor.
     */
    public static LatentStats latentStats(AutoencoderKL vae, ImageDataset dataset, int[] indices, int channels,
            int batch, Rng rng, NDManager parent) {
        double sum = 0;
        double sumSq = 0;
        long n = 0;
        for (int start = 0; start < indices.length; start += batch) {
            int[] part = Arrays.copyOfRange(indices, start, Math.min(indices.length, start + batch));
            try (NDManager scope = parent.newSubManager()) {
                LatentDistribution post = vae.encode(ImageBatches.images(scope, dataset, part, channels));
                float[] z = post.sample(rng.randn(scope, post.mean().getShape())).toFloatArray();
                for (float v : z) {
                    sum += v;
                    sumSq += (double) v * v;
                }
                n += z.length;
            }
        }
        double mean = sum / n;
        double var = Math.max(0, sumSq / n - mean * mean);
        return new LatentStats(indices.length, n, mean, Math.sqrt(var));
    }
}
