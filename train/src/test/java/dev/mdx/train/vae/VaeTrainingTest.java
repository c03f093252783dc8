package dev.mdx.train.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.TensorInfo;
import dev.mdx.train.SampleGrid;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The VAE and light-decoder stages end to end on a tiny data set: the loss falls, the export is complete. */
class VaeTrainingTest {
    private static final String EXPORT = """
            {"scaling_images": 12, "eval_split": "test", "eval_images": 0, "dtype": "float16",
             "fp16_tolerance_db": 0.05, "probe_images": 0, "benchmark_image_size": 0}""";

    private static final int STEPS = 24;

    @TempDir
    Path tmp;

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    private static List<double[]> csv(Path run) throws IOException {
        List<double[]> rows = new ArrayList<>();
        List<String> lines = Files.readAllLines(run.resolve("train_log.csv"));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            rows.add(new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[3])});
        }
        return rows;
    }

    private static double meanLoss(List<double[]> rows, int from, int to) {
        return rows.subList(from, to).stream().mapToDouble(r -> r[1]).average().orElseThrow();
    }

    private VaeStageConfig stage(Path data, int steps, String extraTrainer) throws IOException {
        return stage(data, steps, extraTrainer, EXPORT);
    }

    private VaeStageConfig stage(Path data, int steps, String extraTrainer, String export) throws IOException {
        Path file = tmp.resolve("stage-" + steps + ".json");
        Files.writeString(file, TinyVae.stageJson(data, steps, 3, extraTrainer, export));
        return VaeStageConfig.read(file);
    }

    @Test
    void vaeLossFallsAndExportHasScalingFactorAndFp16Weights() throws IOException {
        Path data = tmp.resolve("data");
        TinyVae.write(data, 16, 3);
        int steps = 160;
        Path run = tmp.resolve("run");
        long t0 = System.nanoTime();
        VaeTraining.Report report = VaeTraining.trainAndExport(stage(data, steps, ""), run, false, quiet());
        List<double[]> rows = csv(run);
        assertEquals(steps, rows.size());
        double first = meanLoss(rows, 0, 5);
        double last = meanLoss(rows, steps - 10, steps);
        System.out.printf("tiny VAE: L1+KL loss %.4f (first 5) -> %.4f (last 10) in %d steps, %.1f s; held-out PSNR"
                + " %.2f dB fp32, %.2f dB %s; scaling_factor %.4f%n", first, last, steps, (System.nanoTime() - t0) / 1e9,
                report.psnrFp32(), report.psnrShipped(), report.shippedDtype(), report.scalingFactor());
        assertTrue(last < 0.6 * first, "loss " + first + " -> " + last);
        // an untrained model reconstructs these images at about 6 dB
        assertTrue(report.psnrFp32() > 15, "held-out PSNR " + report.psnrFp32());

        Path vae = run.resolve(VaeTraining.VAE_DIR);
        VaeConfig exported = VaeConfig.read(vae.resolve(VaeFolder.CONFIG));
        assertEquals(report.scalingFactor(), exported.scalingFactor());
        assertEquals(1 / report.latentStd(), exported.scalingFactor(), 1e-12);
        assertEquals(TinyVae.config(3).withScalingFactor(exported.scalingFactor()), exported);
        assertEquals("float16", report.shippedDtype());
        assertTrue(Math.abs(report.psnrShipped() - report.psnrFp32()) <= 0.05);
        try (SafeTensorsFile st = SafeTensorsFile.open(vae.resolve(VaeFolder.WEIGHTS))) {
            for (TensorInfo info : st.tensors().values()) {
                assertEquals("F16", info.dtype().name(), "every shipped tensor is fp16");
            }
        }
        JsonConfig saved = JsonConfig.read(run.resolve(VaeTraining.REPORT));
        assertEquals(report.psnrFp32(), saved.getDouble("psnr_fp32_db", 0));
        assertEquals(steps, saved.getInt("steps", 0));
        assertGridRows(run, 2);
    }

    /** The reconstruction grid: 4 test images per row, the real ones and one row per decoder. */
    private static void assertGridRows(Path run, int rows) throws IOException {
        java.awt.image.BufferedImage grid = javax.imageio.ImageIO.read(run.resolve(ReconstructionGrid.FILE).toFile());
        SampleGrid.Size expected = SampleGrid.size(4 * rows, TinyVae.SIZE, TinyVae.SIZE, 4, 2);
        assertEquals(expected.width(), grid.getWidth());
        assertEquals(expected.height(), grid.getHeight());
    }

    @Test
    void lightDecoderTrainsAgainstTheFrozenEncoder() throws IOException {
        Path data = tmp.resolve("data");
        TinyVae.write(data, 16, 3);
        Path full = tmp.resolve("full");
        VaeTraining.trainAndExport(stage(data, 30, ""), full, false, quiet());
        Path frozen = full.resolve(VaeTraining.VAE_DIR);

        Path lightFile = tmp.resolve("light.json");
        Files.writeString(lightFile, """
                {"stage": "light_decoder",
                 "trainer": {"max_train_steps": 40, "train_batch_size": 4, "learning_rate": 5e-3, "lr_warmup_steps": 5,
                   "adam_weight_decay": 0.0, "use_ema": false, "seed": 9, "log_every": 1000},
                 "frozen_vae": "full/vae",
                 "light_decoder": {"decoder_block_out_channels": [4, 8], "decoder_layers_per_block": 0,
                   "decoder_norm_num_groups": 2, "decoder_mid_block_attention": false},
                 "data": {"dataset": "data", "crop_size": 8},
                 "export": %s}
                """.formatted(EXPORT));
        VaeStageConfig cfg = VaeStageConfig.read(lightFile);
        assertEquals(0, cfg.loss().klWeight());
        Path run = tmp.resolve("light");
        VaeTraining.Report report = VaeTraining.trainAndExport(cfg, run, false, quiet());
        List<double[]> rows = csv(run);
        double first = meanLoss(rows, 0, 5);
        double last = meanLoss(rows, 30, 40);
        System.out.printf("tiny light decoder: loss %.4f -> %.4f; decoder %d params (full %d)%n", first, last,
                report.decoderParameters(), new AutoencoderKL(TinyVae.config(3)).decoder().parameterCount());
        assertTrue(last < 0.7 * first, "loss " + first + " -> " + last);

        Path vae = run.resolve(VaeTraining.VAE_DIR);
        VaeConfig lightConfig = VaeConfig.read(vae.resolve(VaeFolder.CONFIG));
        VaeConfig frozenConfig = VaeConfig.read(frozen.resolve(VaeFolder.CONFIG));
        assertEquals(frozenConfig.scalingFactor(), lightConfig.scalingFactor(), "the encoder's scale is kept");
        assertEquals(frozenConfig.derivedDecoder(), lightConfig.derivedDecoder());
        assertEquals(List.of(4, 8), lightConfig.decoder().blockOutChannels());
        assertFalse(lightConfig.decoder().midBlockAttention());
        try (NDManager m = NDManager.newBaseManager();
                SafeTensorsFile before = SafeTensorsFile.open(frozen.resolve(VaeFolder.WEIGHTS));
                SafeTensorsFile after = SafeTensorsFile.open(vae.resolve(VaeFolder.WEIGHTS))) {
            AutoencoderKL loaded = AutoencoderKL.load(vae, m);
            assertTrue(loaded.decoder().parameterCount() < new AutoencoderKL(frozenConfig).decoder().parameterCount() / 4);
            int frozenKeys = 0;
            for (String key : after.tensors().keySet()) {
                if (key.startsWith("encoder.") || key.startsWith("quant_conv.")) {
                    assertArrayEquals(before.load(key, m, DataType.FLOAT32).toFloatArray(),
                            after.load(key, m, DataType.FLOAT32).toFloatArray(), key + " stayed frozen");
                    frozenKeys++;
                }
            }
            assertTrue(frozenKeys > 10);
            NDArray pq0 = before.load("post_quant_conv.weight", m, DataType.FLOAT32);
            NDArray pq1 = after.load("post_quant_conv.weight", m, DataType.FLOAT32);
            assertFalse(java.util.Arrays.equals(pq0.toFloatArray(), pq1.toFloatArray()), "post_quant_conv is trained");
        }
        assertGridRows(run, 3);
    }

    /**
     * DJL frees the scalar of {@code mul(Number)} while autograd still holds it; with the garbage collector running
     * all the time such a bug makes gradients differ between runs. Checkpoints and the EMA probe hook run too.
     */
    @Test
    void runsAreBitIdenticalAcrossGarbageCollection() throws IOException {
        Path data = tmp.resolve("data");
        ImageDataset ds = TinyVae.write(data, 16, 3);
        assertNotNull(ds);
        List<List<double[]>> runs = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            Path run = tmp.resolve("gc" + r);
            Thread gc = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    System.gc();
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            gc.setDaemon(true);
            if (r == 1) {
                gc.start();
            }
            try {
                VaeTraining.trainAndExport(stage(data, STEPS, ", \"sample_every\": 3, \"checkpointing_steps\": 4",
                        EXPORT.replace("\"probe_images\": 0", "\"probe_images\": 4")), run, false, quiet());
            } finally {
                gc.interrupt();
            }
            runs.add(csv(run));
        }
        for (int i = 0; i < STEPS; i++) {
            assertArrayEquals(runs.get(0).get(i), runs.get(1).get(i), "step " + (i + 1) + ": loss and grad norm");
        }
    }
}
