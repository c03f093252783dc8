package dev.mdx.train.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.StateDicts;
import dev.mdx.train.DataPosition;
import dev.mdx.train.Rng;
import dev.mdx.train.data.DatasetException;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.LatentDistribution;
import dev.mdx.vae.VaeConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scaling factor, PSNR, fp16 export and the batch source, each against a plain-Java computation. */
class VaeMetricsTest {
    @TempDir
    Path tmp;

    @Test
    void scalingFactorIsOneOverTheStdOfPosteriorSamples() {
        ImageDataset ds = TinyVae.write(tmp.resolve("data"), 12, 3);
        int[] idx = {0, 3, 5, 7, 8, 11, 2};
        try (NDManager weights = NDManager.newBaseManager()) {
            AutoencoderKL vae = new AutoencoderKL(TinyVae.config(3));
            StateDicts.initRandom(vae, weights, 3);
            VaeMetrics.LatentStats stats = VaeMetrics.latentStats(vae, ds, idx, 3, 3, new Rng(42), weights);

            // reference: the same posterior and noise draws (batches of 3, in order), reduced in plain Java
            Rng rng = new Rng(42);
            double sum = 0;
            double sumSq = 0;
            long n = 0;
            java.util.List<Double> all = new java.util.ArrayList<>();
            for (int start = 0; start < idx.length; start += 3) {
                int[] part = java.util.Arrays.copyOfRange(idx, start, Math.min(idx.length, start + 3));
                try (NDManager s = weights.newSubManager()) {
                    LatentDistribution post = vae.encode(ds.batch(s, part));
                    float[] mean = post.mean().toFloatArray();
                    float[] logvar = post.logvar().toFloatArray();
                    float[] noise = rng.gaussians(mean.length);
                    for (int i = 0; i < mean.length; i++) {
                        double z = (float) (mean[i] + (float) Math.exp(0.5 * logvar[i]) * noise[i]);
                        all.add(z);
                        sum += z;
                        n++;
                    }
                }
            }
            double mu = sum / n;
            for (double z : all) {
                sumSq += (z - mu) * (z - mu);
            }
            double std = Math.sqrt(sumSq / n);
            System.out.printf("latent stats: %d elements, mean %.6f, std %.6f (reference %.6f), factor %.6f%n",
                    stats.elements(), stats.mean(), stats.std(), std, stats.scalingFactor());
            assertEquals(n, stats.elements());
            assertEquals(idx.length, stats.images());
            assertEquals(mu, stats.mean(), 1e-5);
            assertEquals(std, stats.std(), 1e-5 * std);
            assertEquals(1 / std, stats.scalingFactor(), 1e-5 / std);
            // scaled latents have unit standard deviation, which is what the factor is for
            double scaledSq = 0;
            for (double z : all) {
                scaledSq += Math.pow((z - mu) * stats.scalingFactor(), 2);
            }
            assertEquals(1.0, Math.sqrt(scaledSq / n), 1e-4);
        }
    }

    @Test
    void psnrRoundsToEightBitsAndCapsExactReconstructions() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] ref = new float[2 * 3 * 4 * 4];
            float[] out = new float[ref.length];
            for (int i = 0; i < ref.length; i++) {
                ref[i] = (i % 17) / 8f - 1f;
                // image 0 exact up to sub-LSB noise; image 1 off by 10 levels in every pixel (clamped at 255)
                out[i] = i < ref.length / 2 ? ref[i] + 0.0001f : ref[i] + 10 / 127.5f;
            }
            Shape s = new Shape(2, 3, 4, 4);
            double[] psnr = VaeMetrics.psnrPerImage(m.create(ref, s), m.create(out, s));
            double se = 0;
            int per = ref.length / 2;
            for (int i = per; i < ref.length; i++) {
                int a = Math.round(Math.min(1f, Math.max(0f, ref[i] / 2 + 0.5f)) * 255);
                int b = Math.round(Math.min(1f, Math.max(0f, out[i] / 2 + 0.5f)) * 255);
                se += (a - b) * (a - b);
            }
            assertEquals(VaeMetrics.PSNR_CAP_DB, psnr[0]);
            assertEquals(10 * Math.log10(255.0 * 255.0 / (se / per)), psnr[1], 1e-9);
            assertTrue(psnr[1] > 20 && psnr[1] < 30, "about 10 levels off: " + psnr[1]);
        }
    }

    @Test
    void fp16FolderLoadsAsTheRoundedWeights() {
        VaeConfig config = TinyVae.config(3).withScalingFactor(0.7);
        Path dir = tmp.resolve("vae");
        try (NDManager weights = NDManager.newBaseManager(); NDManager s = weights.newSubManager()) {
            AutoencoderKL vae = new AutoencoderKL(config);
            StateDicts.initRandom(vae, weights, 5);
            VaeFolder.write(dir, config, vae, true);
            assertEquals(config, VaeConfig.read(dir.resolve(VaeFolder.CONFIG)));
            AutoencoderKL loaded = AutoencoderKL.load(dir, weights);
            try (SafeTensorsFile st = SafeTensorsFile.open(dir.resolve(VaeFolder.WEIGHTS))) {
                assertEquals(vae.namedParameters().keySet(), st.tensors().keySet());
                st.tensors().values().forEach(t -> assertEquals("F16", t.dtype().name(), t.name()));
            }
            // reference: the fp32 model with each weight rounded through fp16 by the engine
            AutoencoderKL rounded = new AutoencoderKL(config);
            Map<String, dev.mdx.nn.Parameter> dst = rounded.namedParameters();
            vae.namedParameters().forEach((k, p) -> dst.get(k).set(
                    p.get().toType(DataType.FLOAT16, true).toType(DataType.FLOAT32, false)));
            NDArray latent = s.randomNormal(new Shape(2, 4, 8, 8));
            float[] expected = rounded.decode(latent).toFloatArray();
            float[] actual = loaded.decode(latent).toFloatArray();
            float[] full = vae.decode(latent).toFloatArray();
            assertArrayEquals(expected, actual, 0f, "fp16 file = engine-rounded weights");
            double maxDiff = 0;
            for (int i = 0; i < full.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(full[i] - actual[i]));
            }
            System.out.printf("fp16 weights vs fp32: max abs decode difference %.2e%n", maxDiff);
            assertTrue(maxDiff > 0 && maxDiff < 1e-2, "fp16 rounding changes the output slightly: " + maxDiff);
        }
    }

    @Test
    void batchesResumeExactlyCropOnTheLatentGridAndWidenGray() {
        ImageDataset rgb = TinyVae.write(tmp.resolve("rgb"), 12, 3);
        ImageDataset gray = TinyVae.write(tmp.resolve("gray"), 12, 1);
        try (NDManager m = NDManager.newBaseManager()) {
            ImageBatches crops = new ImageBatches(rgb, "train", 1, 4, 3, 8, 2);
            Rng rng = new Rng(3);
            DataPosition pos = new DataPosition(2, 4);
            long state = rng.state();
            var first = crops.next(m, pos, rng);
            var again = crops.next(m, pos, Rng.restore(state));
            assertArrayEquals(first.batch().toFloatArray(), again.batch().toFloatArray(), 0f);
            assertEquals(first.position(), again.position());
            assertEquals(new DataPosition(2, 8), first.position());
            assertEquals(new Shape(4, 3, 8, 8), first.batch().getShape());
            // every crop is a window of some training image at even offsets
            float[] c = first.batch().toFloatArray();
            int plane = 64;
            for (int b = 0; b < 4; b++) {
                boolean found = false;
                for (int idx : rgb.indices("train")) {
                    float[] img = rgb.image(idx);
                    for (int oy = 0; oy <= 8 && !found; oy += 2) {
                        for (int ox = 0; ox <= 8 && !found; ox += 2) {
                            boolean same = true;
                            for (int ch = 0; ch < 3 && same; ch++) {
                                for (int y = 0; y < 8 && same; y++) {
                                    for (int x = 0; x < 8 && same; x++) {
                                        same = img[ch * 256 + (oy + y) * 16 + ox + x]
                                                == c[(b * 3 + ch) * plane + y * 8 + x];
                                    }
                                }
                            }
                            found = same;
                        }
                    }
                }
                assertTrue(found, "crop " + b + " is an aligned window of a training image");
            }

            ImageBatches widened = new ImageBatches(gray, "train", 1, 3, 3, 0, 2);
            NDArray g = widened.next(m, DataPosition.START, new Rng(1)).batch();
            assertEquals(new Shape(3, 3, 16, 16), g.getShape());
            float[] v = g.toFloatArray();
            for (int b = 0; b < 3; b++) {
                for (int p = 0; p < 256; p++) {
                    assertEquals(v[(b * 3) * 256 + p], v[(b * 3 + 1) * 256 + p]);
                    assertEquals(v[(b * 3) * 256 + p], v[(b * 3 + 2) * 256 + p]);
                }
            }
            assertThrows(DatasetException.class, () -> new ImageBatches(rgb, "train", 1, 4, 1, 0, 2),
                    "an RGB set cannot feed a one-channel VAE");
            assertThrows(DatasetException.class, () -> new ImageBatches(rgb, "train", 1, 4, 3, 7, 2));
            assertThrows(DatasetException.class, () -> new ImageBatches(rgb, "nope", 1, 4, 3, 0, 2));
        }
    }
}
