package dev.mdx.train.vae;

import dev.mdx.io.JsonConfig;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.train.data.ImageDatasetWriter;
import dev.mdx.vae.VaeConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/** Tiny data sets and configs for the VAE stage tests: smooth synthetic shapes, a two-level VAE. */
final class TinyVae {
    static final int SIZE = 16;

    private TinyVae() {}

    /** Two levels (16 -> 8), 4 latent channels, with the mid-block attention that the encoder and decoder use. */
    static VaeConfig config(int channels) {
        return new VaeConfig(channels, channels, 4, List.of(8, 16), 1, 4, 1.0, OptionalDouble.empty(), SIZE, true,
                true, true, null);
    }

    /**
     * {@code n} images: a soft disc of a per-image colour and position on a per-image background gradient; the last
     * quarter is the test split.
     */
    static ImageDataset write(Path dir, int n, int channels) {
        try (ImageDatasetWriter w = new ImageDatasetWriter(dir, "tiny", SIZE, SIZE, channels)) {
            for (int i = 0; i < n; i++) {
                byte[] px = new byte[SIZE * SIZE * channels];
                double cx = 4 + (i * 5) % 8;
                double cy = 4 + (i * 3) % 8;
                for (int y = 0; y < SIZE; y++) {
                    for (int x = 0; x < SIZE; x++) {
                        double d = Math.hypot(x - cx, y - cy);
                        double disc = 1 / (1 + Math.exp(2 * (d - 3.5)));
                        for (int c = 0; c < channels; c++) {
                            double bg = 0.2 + 0.5 * ((x + y * (c + 1) + i) % SIZE) / SIZE;
                            double fg = ((i * 37 + c * 91) % 200 + 40) / 255.0;
                            double v = bg * (1 - disc) + fg * disc;
                            px[(y * SIZE + x) * channels + c] = (byte) Math.round(255 * v);
                        }
                    }
                }
                String split = i >= n - n / 4 ? DatasetItem.TEST : DatasetItem.TRAIN;
                w.add(px, new DatasetItem(-1, split, "shape " + i, i, null, List.of("shape " + i), "k" + i, null));
            }
            w.finish(JsonConfig.MAPPER.createObjectNode().put("builder", "test"),
                    JsonConfig.MAPPER.createObjectNode());
        }
        return ImageDataset.open(dir);
    }

    /** A stage-vae config document over the tiny set. */
    static String stageJson(Path dataset, int steps, int channels, String extraTrainer, String exportJson) {
        VaeConfig c = config(channels);
        return String.format(Locale.ROOT, """
                {"stage": "vae",
                 "trainer": {"max_train_steps": %d, "train_batch_size": 4, "learning_rate": 5e-3,
                   "lr_warmup_steps": 5, "lr_min": 5e-4, "adam_weight_decay": 0.0, "max_grad_norm": 1.0,
                   "use_ema": true, "ema_decay": 0.99, "ema_use_warmup": true, "seed": 7, "checkpointing_steps": 1000,
                   "checkpoints_total_limit": 1, "log_every": 1000%s},
                 "vae": %s,
                 "data": {"dataset": "%s", "split": "train", "crop_size": 8},
                 "loss": {"reconstruction": "l1", "kl_weight": 1e-6},
                 "export": %s}
                """, steps, extraTrainer, c.toJson(), dataset.toString().replace("\\", "\\\\"), exportJson);
    }
}
