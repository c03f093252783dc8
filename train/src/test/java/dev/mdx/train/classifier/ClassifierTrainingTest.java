package dev.mdx.train.classifier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.train.Trainer;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDataset;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The classifier stage on a tiny shapes set: the loss falls within seconds, the export and its report. */
class ClassifierTrainingTest {
    @TempDir
    Path tmp;

    @Test
    void accuracyCountsMatchesOverallAndPerClass() {
        int[] truth = {0, 0, 1, 1, 1, 2};
        int[] predicted = {0, 1, 1, 1, 0, 0};
        assertEquals(3.0 / 6, Accuracy.of(predicted, truth), 1e-12);
        assertArrayEquals(new double[] {0.5, 2.0 / 3, 0.0}, Accuracy.perClass(predicted, truth, 3), 1e-12);
        assertTrue(Double.isNaN(Accuracy.perClass(predicted, truth, 4)[3]), "a class without items is NaN");
        assertEquals(0, Accuracy.of(new int[0], new int[0]));
        assertThrows(IllegalArgumentException.class, () -> Accuracy.of(new int[2], new int[3]));
    }

    private Path config(Path dataset, int steps, String extra) throws Exception {
        Path file = tmp.resolve("classifier-" + steps + ".json");
        Files.writeString(file, """
                {"trainer": {"max_train_steps": %d, "train_batch_size": 16, "learning_rate": 0.005,
                   "lr_warmup_steps": 5, "adam_weight_decay": 0.0, "use_ema": true, "ema_decay": 0.9,
                   "ema_use_warmup": true, "seed": 3, "checkpointing_steps": 1000, "sample_every": 30,
                   "log_every": 1000},
                 "data": {"dataset": "%s", "probe_images": 6},
                 "model": {"channels": [8, 16], "hidden_size": 16}%s}
                """.formatted(steps, dataset.toString().replace("\\", "\\\\"), extra), StandardCharsets.UTF_8);
        return file;
    }

    @Test
    void lossFallsAndTheExportIsScored() throws Exception {
        Path data = ShapesDataset.write(tmp.resolve("shapes"), 1, 16, 4, 1);
        Path out = tmp.resolve("run");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        Trainer.Result r = ClassifierTraining.run(config(data, 60, ""), out, false,
                new PrintStream(log, true, StandardCharsets.UTF_8));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(60, r.step());
        List<String> rows = Files.readAllLines(out.resolve("train_log.csv"));
        double first = meanLoss(rows.subList(1, 2));
        double last = meanLoss(rows.subList(rows.size() - 10, rows.size()));
        System.out.printf("classifier loss: step 1 %.4f, last 10 steps %.4f (%.1f s)%n", first, last, seconds);
        assertTrue(first > 0.8, "starts near ln 3: " + first);
        assertTrue(last < 0.2 * first, "loss should fall by 5x: " + first + " -> " + last);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("accuracy"), log.toString(StandardCharsets.UTF_8));

        Path dir = out.resolve(ClassifierTraining.CLASSIFIER_DIR);
        ClassifierConfig cfg = ClassifierConfig.read(dir.resolve(ClassifierConfig.FILE));
        assertEquals(ShapesDataset.NAMES, cfg.classNames());
        assertEquals(1, cfg.inChannels());
        assertEquals(16, cfg.imageSize());
        JsonNode report = JsonConfig.read(out.resolve(ClassifierTraining.REPORT)).root();
        assertEquals(12, report.get("eval_images").asInt());
        assertEquals(60, report.get("steps").asInt());
        double accuracy = report.get("accuracy").asDouble();
        assertTrue(accuracy >= 0.75, "the shapes are easy: " + report);
        String dtype = report.get("dtype").asText();
        try (SafeTensorsFile st = SafeTensorsFile.open(dir.resolve(ImageClassifier.WEIGHTS_FILE))) {
            assertEquals(dtype.equals("float16") ? "F16" : "F32", st.info("fc2.weight").dtype().toString());
        }
        assertEquals(ShapesDataset.NAMES.size(), report.get("per_class_accuracy").size());
        // the shipped folder loads and gives the reported accuracy
        try (NDManager m = NDManager.newBaseManager()) {
            ImageDataset set = ImageDataset.open(data);
            int[] test = set.indices(DatasetItem.TEST);
            assertEquals(accuracy, ClassifierTraining.accuracy(ImageClassifier.load(dir, m), set, test, m), 1e-12);
        }
    }

    @Test
    void badConfigsNameTheField() throws Exception {
        Path data = ShapesDataset.write(tmp.resolve("shapes"), 1, 2, 1, 1);
        ModelFormatException e = assertThrows(ModelFormatException.class, () ->
                ClassifierTraining.run(config(data, 2, ", \"export\": {\"dtype\": \"int8\"}"), tmp.resolve("o"),
                        false, new PrintStream(new ByteArrayOutputStream())));
        assertTrue(e.getMessage().contains("dtype"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () ->
                ClassifierTraining.run(config(data, 2, ", \"modle\": {}"), tmp.resolve("o"), false,
                        new PrintStream(new ByteArrayOutputStream())));
        assertTrue(e.getMessage().contains("modle"), e.getMessage());
    }

    private static double meanLoss(List<String> rows) {
        return rows.stream().mapToDouble(r -> Double.parseDouble(r.split(",")[1])).average().orElseThrow();
    }
}
