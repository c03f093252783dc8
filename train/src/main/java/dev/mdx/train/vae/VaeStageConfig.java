package dev.mdx.train.vae;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.train.TrainingConfig;
import dev.mdx.vae.VaeConfig;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * A VAE training config file: the {@code trainer} section ({@link TrainingConfig}) plus the stage's own sections.
 *
 * <pre>
 * "stage": "vae" | "light_decoder"
 * "vae": { a diffusers AutoencoderKL config.json }               (stage vae: the model trained from scratch)
 * "frozen_vae": "DIR"                                            (stage light_decoder: a trained vae/ folder)
 * "light_decoder": { "decoder_block_out_channels": [...], ... }  (stage light_decoder: decoder_* keys of VaeConfig)
 * "data": { "dataset": "DIR", "split": "train", "crop_size": 0 }
 * "loss": { "reconstruction": "l1" | "l2", "kl_weight": 1e-6 }
 * "export": { "scaling_images": 1024, "eval_split": "test", "eval_images": 0, "dtype": "float16",
 *             "fp16_tolerance_db": 0.05, "probe_images": 64, "benchmark_image_size": 512 }
 * </pre>
 *
 * In the light-decoder stage the encoder and {@code quant_conv} come from {@code frozen_vae} and stay frozen; the
 * decoder and {@code post_quant_conv} are trained, the decoder from random weights. Relative paths are resolved
 * against the folder of the config file.
 *
 * @param stage which part is trained
 * @param vae the model's config (for the light decoder: the frozen VAE's config with the light decoder)
 * @param frozenVae the trained VAE folder the light decoder's encoder comes from; null for stage vae
 * @param dataset the cached image data set
 * @param split the split trained on
 * @param cropSize side of the random training crops, 0 for whole images
 * @param loss reconstruction and KL terms
 * @param export what happens after training
 * @param trainer the trainer's settings
 */
public record VaeStageConfig(Stage stage, VaeConfig vae, Path frozenVae, Path dataset, String split, int cropSize,
        VaeLoss.Settings loss, Export export, TrainingConfig trainer) {

    /** What the stage trains. */
    public enum Stage {
        /** The whole AutoencoderKL from random weights. */
        VAE,
        /** A smaller decoder against a trained, frozen encoder. */
        LIGHT_DECODER;

        static Stage parse(JsonConfig c, String key) {
            String v = c.getString(key, "vae");
            return switch (v) {
                case "vae" -> VAE;
                case "light_decoder" -> LIGHT_DECODER;
                default -> throw c.error(key, "must be \"vae\" or \"light_decoder\", got \"" + v + "\"");
            };
        }
    }

    /**
     * @param scalingImages training images whose latents give the scaling factor (stage vae)
     * @param evalSplit split the reconstruction PSNR is measured on
     * @param evalImages how many of its images (0: all)
     * @param float16 ship fp16 weights when their PSNR is within {@code fp16ToleranceDb} of fp32
     * @param fp16ToleranceDb allowed PSNR change of the fp16 weights
     * @param probeImages held-out images whose PSNR the periodic hook prints (0: none)
     * @param benchmarkImageSize side of the image whose decode is also timed (the paper's 512; 0: skip)
     */
    public record Export(int scalingImages, String evalSplit, int evalImages, boolean float16, double fp16ToleranceDb,
            int probeImages, int benchmarkImageSize) {}

    private static final Set<String> TOP = new TreeSet<>(List.of("trainer", "stage", "vae", "frozen_vae",
            "light_decoder", "data", "loss", "export"));
    private static final Set<String> DATA = new TreeSet<>(List.of("dataset", "split", "crop_size"));
    private static final Set<String> LOSS = new TreeSet<>(List.of("reconstruction", "kl_weight"));
    private static final Set<String> EXPORT = new TreeSet<>(List.of("scaling_images", "eval_split", "eval_images",
            "dtype", "fp16_tolerance_db", "probe_images", "benchmark_image_size"));
    private static final Set<String> LIGHT = new TreeSet<>(List.of(VaeConfig.DECODER_BLOCK_OUT_CHANNELS,
            VaeConfig.DECODER_LAYERS_PER_BLOCK, VaeConfig.DECODER_NORM_NUM_GROUPS,
            VaeConfig.DECODER_MID_BLOCK_ATTENTION, VaeConfig.DECODER_UPSAMPLE));

    public static VaeStageConfig read(Path file) {
        Path base = file.toAbsolutePath().getParent();
        return from(JsonConfig.read(file), base);
    }

    /** Parses a whole document; relative paths are resolved against {@code baseDir}. */
    public static VaeStageConfig from(JsonConfig doc, Path baseDir) {
        doc.rejectUnknown(TOP);
        TrainingConfig trainer = TrainingConfig.fromDocument(doc);
        Stage stage = Stage.parse(doc, "stage");
        JsonConfig data = doc.section("data", true);
        data.rejectUnknown(DATA);
        Path dataset = baseDir.resolve(requireString(data, "dataset"));
        String split = data.getString("split", "train");
        int cropSize = data.getNonNegativeInt("crop_size", 0);
        JsonConfig lossJson = doc.section("loss", false);
        lossJson.rejectUnknown(LOSS);
        String rec = lossJson.getString("reconstruction", "l1").toLowerCase(Locale.ROOT);
        if (!rec.equals("l1") && !rec.equals("l2")) {
            throw lossJson.error("reconstruction", "must be \"l1\" or \"l2\", got \"" + rec + "\"");
        }
        double klWeight = lossJson.getDouble("kl_weight", 1e-6);
        if (!(klWeight >= 0) || Double.isInfinite(klWeight)) {
            throw lossJson.error("kl_weight", "must be >= 0, got " + klWeight);
        }
        VaeConfig vae;
        Path frozen = null;
        if (stage == Stage.VAE) {
            forbid(doc, stage, "frozen_vae", "light_decoder");
            vae = VaeConfig.from(doc.section("vae", true));
        } else {
            forbid(doc, stage, "vae");
            if (lossJson.has("kl_weight")) {
                throw lossJson.error("kl_weight", "has no effect in stage light_decoder (the encoder is frozen)");
            }
            klWeight = 0;
            frozen = baseDir.resolve(requireString(doc, "frozen_vae"));
            JsonConfig light = doc.section("light_decoder", true);
            light.rejectUnknown(LIGHT);
            ObjectNode merged = JsonConfig.read(frozen.resolve("config.json")).copyRoot();
            for (Iterator<String> it = light.root().fieldNames(); it.hasNext(); ) {
                String k = it.next();
                merged.set(k, light.root().get(k).deepCopy());
            }
            vae = VaeConfig.from(new JsonConfig(frozen.resolve("config.json") + " with " + light.source(), merged));
        }
        JsonConfig ex = doc.section("export", false);
        ex.rejectUnknown(EXPORT);
        String dtype = ex.getString("dtype", "float16");
        if (!dtype.equals("float16") && !dtype.equals("float32")) {
            throw ex.error("dtype", "must be \"float16\" or \"float32\", got \"" + dtype + "\"");
        }
        Export export = new Export(ex.getNonNegativeInt("scaling_images", 1024),
                ex.getString("eval_split", "test"), ex.getNonNegativeInt("eval_images", 0), dtype.equals("float16"),
                ex.getDouble("fp16_tolerance_db", 0.05), ex.getNonNegativeInt("probe_images", 64),
                ex.getNonNegativeInt("benchmark_image_size", 512));
        if (stage == Stage.VAE && export.scalingImages() == 0) {
            throw ex.error("scaling_images", "must be > 0: the scaling factor is measured on these images");
        }
        if (export.benchmarkImageSize() % vae.downsampleFactor() != 0) {
            throw ex.error("benchmark_image_size", "must be a multiple of the VAE's downsampling factor "
                    + vae.downsampleFactor() + ", got " + export.benchmarkImageSize());
        }
        if (cropSize % vae.downsampleFactor() != 0) {
            throw data.error("crop_size", "must be a multiple of the VAE's downsampling factor "
                    + vae.downsampleFactor() + ", got " + cropSize);
        }
        return new VaeStageConfig(stage, vae, frozen, dataset, split, cropSize,
                new VaeLoss.Settings(rec.equals("l1") ? VaeLoss.Reconstruction.L1 : VaeLoss.Reconstruction.L2,
                        klWeight), export, trainer);
    }

    /** The same stage reading another data set folder (the command line's {@code --data}). */
    public VaeStageConfig withDataset(Path dir) {
        return new VaeStageConfig(stage, vae, frozenVae, dir, split, cropSize, loss, export, trainer);
    }

    private static String requireString(JsonConfig c, String key) {
        String v = c.getString(key, null);
        if (v == null || v.isBlank()) {
            throw c.error(key, "is missing");
        }
        return v;
    }

    private static void forbid(JsonConfig doc, Stage stage, String... keys) {
        for (String k : keys) {
            if (doc.has(k)) {
                throw doc.error(k, "does not belong to stage " + stage.name().toLowerCase(Locale.ROOT));
            }
        }
    }
}
