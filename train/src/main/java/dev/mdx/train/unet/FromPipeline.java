package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.ModelFormatException;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.train.TrainingConfig;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the stages that start from a trained pipeline folder share (distill, ufogen): the config file's
 * {@code trainer} and {@code data} sections, and the folder named by one key ({@code teacher}, {@code base}) whose
 * UNet, scheduler, text encoder, tokenizer and VAE the stage uses and whose frozen parts the export copies.
 */
final class FromPipeline {
    final JsonConfig doc;
    final Path base;
    final TrainingConfig trainer;
    final ModelFolder folder;
    final UNetConfig unetConfig;
    /** The folder's scheduler_config.json. */
    final ObjectNode schedulerJson;
    final ScheduleConfig schedule;

    private FromPipeline(JsonConfig doc, Path base, ModelFolder folder) {
        this.doc = doc;
        this.base = base;
        this.trainer = TrainingConfig.fromDocument(doc);
        this.folder = folder;
        this.unetConfig = UNetConfig.read(folder.unetConfig());
        JsonConfig scheduler = ScheduleConfig.readJson(folder.schedulerConfig());
        this.schedulerJson = scheduler.copyRoot();
        this.schedule = ScheduleConfig.parse(scheduler);
    }

    /** Reads the config file; {@code key} names the pipeline folder (relative to the config file's folder). */
    static FromPipeline read(Path configFile, String key) {
        JsonConfig doc = JsonConfig.read(configFile);
        Path base = configFile.toAbsolutePath().getParent();
        return new FromPipeline(doc, base, ModelFolder.open(base.resolve(UNetTraining.requireString(doc, key))));
    }

    /** The stage's own section (an empty one when absent). */
    JsonConfig section(String key) {
        return doc.root().has(key) ? UNetTraining.section(doc, key)
                : new JsonConfig(doc.source() + " (" + key + ")", JsonConfig.MAPPER.createObjectNode());
    }

    /** Fails naming the file and the keys when {@code c} holds a key not in {@code known}. */
    static void rejectUnknown(JsonConfig c, List<String> known) {
        List<String> unknown = new ArrayList<>();
        c.root().fieldNames().forEachRemaining(k -> {
            if (!known.contains(k)) {
                unknown.add(k);
            }
        });
        if (!unknown.isEmpty()) {
            throw new ModelFormatException(c.source() + ": unknown field(s) " + String.join(", ", unknown)
                    + " (known: " + String.join(", ", known) + ")");
        }
    }

    /**
     * The config of a stage run from flags ({@code mdx train lora|adapter --base MODEL --data DIR ...}):
     * {@code template} (a config file, or null for {@code defaults}) with the base and the data set replaced when
     * given (paths made absolute) and {@code stage} applied, written to {@code file}.
     *
     * @param base, data null to keep the template's
     */
    static Path writeFlagsConfig(Path template, String defaults, Path base, Path data, Path file,
            Consumer<ObjectNode> stage) {
        ObjectNode doc;
        Path from;
        if (template != null) {
            doc = JsonConfig.read(template).copyRoot();
            from = template.toAbsolutePath().getParent();
        } else {
            doc = (ObjectNode) JsonConfig.parse("defaults", defaults).root();
            from = Path.of("").toAbsolutePath();
        }
        if (base != null) {
            doc.put("base", base.toAbsolutePath().normalize().toString());
        } else if (doc.hasNonNull("base")) {
            doc.put("base", from.resolve(doc.get("base").asText()).normalize().toString());
        } else {
            throw new ModelFormatException("no base model: give --base MODEL (or \"base\" in the config)");
        }
        ObjectNode dataSection = doc.with("data");
        if (data != null) {
            dataSection.put("dataset", data.toAbsolutePath().normalize().toString());
        } else if (dataSection.hasNonNull("dataset")) {
            dataSection.put("dataset", from.resolve(dataSection.get("dataset").asText()).normalize().toString());
        } else {
            throw new ModelFormatException("no data set: give --data DIR (or \"data\": {\"dataset\": ...} in the"
                    + " config)");
        }
        stage.accept(doc);
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file.getParent() + ": " + e.getMessage(), e);
        }
        AtomicFiles.writeBytes(file, (JsonConfig.pretty(doc) + "\n").getBytes(StandardCharsets.UTF_8));
        return file;
    }

    LatentBatchSource batches(Path outDir, NDManager weights, PrintStream out) {
        return UNetTraining.latentBatches(doc, base, folder.vaeDir(), unetConfig, trainer, outDir, weights, out);
    }

    TextConditioning text(NDManager weights) {
        return new TextConditioning(ClipTextModel.load(folder.textEncoderDir(), weights),
                ClipTokenizer.load(folder.tokenizerDir()));
    }

    UNet2DConditionModel loadUnet(NDManager weights) {
        return UNet2DConditionModel.load(folder.unetDir(), weights);
    }

    /** A pipeline folder holding {@code weights} (of a UNet of {@code unet}) and this folder's frozen parts. */
    void export(Path dir, UNetConfig unet, Map<String, NDArray> weights, ObjectNode scheduler, String note,
            Consumer<ObjectNode> index) {
        UNetTraining.exportPipeline(dir, weights, unet, folder.textEncoderDir(), folder.tokenizerDir(),
                folder.vaeDir(), scheduler, note, index);
    }
}
