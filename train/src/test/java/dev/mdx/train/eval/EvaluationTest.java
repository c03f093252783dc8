package dev.mdx.train.eval;

import dev.mdx.testing.OneEngineThread;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.MdxException;
import dev.mdx.io.JsonConfig;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.tensor.Precision;
import dev.mdx.train.classifier.ClassifierTraining;
import dev.mdx.train.classifier.ImageClassifier;
import dev.mdx.train.clip.ClipScorer;
import dev.mdx.train.clip.Retrieval;
import dev.mdx.train.data.DataOrder;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDataset;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code mdx eval}'s scoring with hand-made embeddings, and the whole evaluation on tiny random models. */
@ExtendWith(OneEngineThread.class)
class EvaluationTest {

    @TempDir
    Path tmp;



    @Test
    void labelRetrievalRanksEveryImageAmongAllLabels() {
        // six labels on the axes of R^6
        float[][] labels = new float[6][6];
        for (int i = 0; i < 6; i++) {
            labels[i][i] = 1;
        }
        float[][] images = {
            {2, 0, 0, 0, 0, 0},            // label 0 first: top-1 and top-5 hit
            {0, 0.4f, 0.9f, 0, 0, 0},      // label 1 second (after 2): top-5 hit only
            {-1, 0, 0, 0, 0, 1},           // label 0 last of six: a miss at 5
            {0, 0, 0, 1, 1, 0},            // tie of labels 3 and 4: the lower column ranks first
        };
        int[] truth = {0, 1, 0, 4};
        Retrieval.Accuracy a = LabelSet.accuracy(images, labels, truth);
        assertEquals(4, a.queries());
        assertEquals(1.0 / 4, a.top1(), 1e-12);
        assertEquals(3.0 / 4, a.top5(), 1e-12);
        // the tied label 3 is a top-1 hit
        assertEquals(1.0, LabelSet.accuracy(new float[][] {images[3]}, labels, new int[] {3}).top1());
        // scale does not matter: cosine similarity
        float[][] scaled = {{0, 4, 9, 0, 0, 0}};
        assertEquals(0.0, LabelSet.accuracy(scaled, labels, new int[] {1}).top1());
    }

    @Test
    void labelsAreDistinctSubjectsInOrderOfFirstAppearance() {
        List<DatasetItem> items = List.of(
                new DatasetItem(0, "train", "fox", 0, "noto", List.of("fox, noto style", "fox, noto emoji"), "a", null),
                new DatasetItem(1, "train", "cat", 1, "noto", List.of("cat, noto style"), "b", null),
                new DatasetItem(2, "test", "fox", 0, "twemoji", List.of("fox, twemoji style"), "c", "pair"),
                new DatasetItem(3, "train", "fox", 0, "noto", List.of("fox, noto style"), "d", null));
        LabelSet set = LabelSet.of(items);
        assertEquals(List.of("fox", "cat"), set.labels());
        assertEquals(1, set.indexOf("cat"));
        assertEquals(-1, set.indexOf("dog"));
        assertEquals(List.of("fox, noto style", "fox, twemoji style"), set.captions("fox"));
    }

    @Test
    void generatedRgbBecomesTheDataSetsChannels() {
        byte[] rgb = {(byte) 255, (byte) 255, (byte) 255, 0, (byte) 255, 0};
        assertArrayEquals(new float[] {1f, 1f / 3 * 2 - 1}, Evaluation.toChw(rgb, 2, 1), 1e-6f);
        assertArrayEquals(new float[] {1, -1, 1, 1, 1, -1}, Evaluation.toChw(rgb, 2, 3), 1e-6f);
    }

    private EvalSettings settings(Path data, Path clip, Path classifier, LabelSet.LabelText text, int images) {
        Path model = Files.isDirectory(tmp.resolve("micro")) ? tmp.resolve("micro")
                : EvalFixtures.pipeline(tmp.resolve("micro"));
        return new EvalSettings(model, data, clip, classifier, SamplerKind.DDIM, 2, 7.5, 3, images, 4, text,
                tmp.resolve("out"), true, null, Precision.FP32);
    }

    @Test
    void evaluatesGrayImagesWithAClassifierEndToEnd() throws Exception {
        Path data = EvalFixtures.dataset(tmp.resolve("shapes"), 1, true);
        Path clip = EvalFixtures.clip(tmp.resolve("clip"), 1);
        Path classifierDir = EvalFixtures.classifier(tmp.resolve("classifier"), 1);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        EvalReport report = Evaluation.run(settings(data, clip, classifierDir, LabelSet.LabelText.CAPTIONS, 6),
                new PrintStream(log, true, StandardCharsets.UTF_8));
        String printed = log.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("held_out: CLIP top-1"), printed);

        JsonNode json = JsonConfig.read(tmp.resolve("out").resolve(EvalReport.JSON)).root();
        assertEquals("ddim", json.get("sampler").asText());
        assertEquals(2, json.get("steps").asInt());
        assertEquals(7.5, json.get("cfg_scale").asDouble());
        assertEquals(3, json.get("labels").asInt());
        assertEquals(16, json.get("width").asInt());
        assertEquals("captions", json.get("label_text").asText());
        JsonNode splits = json.get("splits");
        assertEquals(List.of("held_in", "held_out", "held_out_emoji", "held_out_pair"),
                iterable(splits.fieldNames()));
        assertEquals(6, splits.get("held_in").get("images").asInt());
        assertEquals("train", splits.get("held_in").get("split").asText());
        assertEquals(6, splits.get("held_out").get("images").asInt());
        assertEquals(3, splits.get("held_out_emoji").get("images").asInt());
        // the real-vs-real floor: the 6 other train items; the 6 test items leave no others; none per holdout kind
        assertTrue(splits.get("held_in").get("real_fid").asDouble() > 0, splits.toString());
        assertTrue(splits.get("held_out").get("real_fid").isNull(), splits.toString());
        assertTrue(splits.get("held_out_pair").get("real_fid").isNull(), splits.toString());
        for (JsonNode s : splits) {
            for (String k : List.of("clip_top1", "clip_top5", "real_clip_top1", "real_clip_top5",
                    "classifier_accuracy", "real_classifier_accuracy")) {
                double v = s.get(k).asDouble();
                assertTrue(v >= 0 && v <= 1, k + " = " + v);
            }
            // three labels: every label is among the top 5
            assertEquals(1.0, s.get("clip_top5").asDouble());
            assertTrue(s.get("fid").asDouble() > -1e-6, "fid " + s.get("fid"));
            assertTrue(s.get("ms_per_image").asDouble() > 0);
        }

        // the real-image scores are exactly what the parts compute on the same items
        try (NDManager m = NDManager.newBaseManager()) {
            ImageDataset set = ImageDataset.open(data);
            int[] items = DataOrder.sample(set.indices(DatasetItem.TEST), 6, Evaluation.PROMPT_ORDER_SEED);
            ClipScorer scorer = ClipScorer.load(clip, m, 5);
            LabelSet labels = LabelSet.of(set);
            float[][] real = scorer.imageEmbeddings((s, from, to) -> set.batch(s, Arrays.copyOfRange(items, from, to)),
                    items.length);
            int[] truth = Arrays.stream(items).map(i -> labels.indexOf(set.label(i))).toArray();
            Retrieval.Accuracy expected = LabelSet.accuracy(real, labels.embed(scorer, LabelSet.LabelText.CAPTIONS),
                    truth);
            EvalReport.Row heldOut = report.row("held_out");
            assertEquals(expected.top1(), heldOut.realClip().top1(), 1e-12);
            assertEquals(expected.top1(), splits.get("held_out").get("real_clip_top1").asDouble(), 1e-12);
            ImageClassifier classifier = ImageClassifier.load(classifierDir, m);
            assertEquals(ClassifierTraining.accuracy(classifier, set, items, m), heldOut.realClassifierAccuracy(),
                    1e-12);
        }

        String md = Files.readString(tmp.resolve("out").resolve(EvalReport.MARKDOWN));
        assertTrue(md.contains("| held_in | train | 6 |"), md);
        assertTrue(md.contains("classifier acc."), md);
        BufferedImage grid = ImageIO.read(tmp.resolve("out").resolve(EvalGrid.FILE).toFile());
        assertTrue(grid.getWidth() > 6 * 16 && grid.getHeight() > 2 * 2 * 16, grid.getWidth() + "x" + grid.getHeight());
    }

    @Test
    void evaluatesRgbImagesWithoutClassifier() throws Exception {
        Path data = EvalFixtures.dataset(tmp.resolve("shapes"), 3, false);
        Path clip = EvalFixtures.clip(tmp.resolve("clip"), 3);
        EvalReport report = Evaluation.run(settings(data, clip, null, LabelSet.LabelText.LABEL, 2),
                new PrintStream(new ByteArrayOutputStream()));
        assertEquals(List.of("held_in", "held_out"), report.rows().stream().map(EvalReport.Row::name).toList());
        JsonNode json = JsonConfig.read(tmp.resolve("out").resolve(EvalReport.JSON)).root();
        assertTrue(json.get("classifier").isNull());
        assertEquals("label", json.get("label_text").asText());
        JsonNode heldIn = json.get("splits").get("held_in");
        assertEquals(2, heldIn.get("images").asInt());
        assertTrue(heldIn.get("classifier_accuracy").isNull());
        assertTrue(heldIn.get("fid").isNumber());
        assertTrue(!Files.readString(tmp.resolve("out").resolve(EvalReport.MARKDOWN)).contains("classifier acc."));
    }

    @Test
    void unusableInputsAreOneClearMessage() {
        Path data = EvalFixtures.dataset(tmp.resolve("shapes"), 1, false);
        Path clip = EvalFixtures.clip(tmp.resolve("clip"), 1);
        Path rgbClip = EvalFixtures.clip(tmp.resolve("rgb-clip"), 3);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        MdxException e = assertThrows(MdxException.class, () -> Evaluation.run(
                settings(data, tmp.resolve("nope"), null, LabelSet.LabelText.CAPTIONS, 2), quiet));
        assertTrue(e.getMessage().contains("CLIP folder") && e.getMessage().contains("does not exist"), e.getMessage());
        e = assertThrows(MdxException.class, () -> Evaluation.run(
                settings(tmp.resolve("no-data"), clip, null, LabelSet.LabelText.CAPTIONS, 2), quiet));
        assertTrue(e.getMessage().contains("no-data"), e.getMessage());
        e = assertThrows(MdxException.class, () -> Evaluation.run(
                settings(data, rgbClip, null, LabelSet.LabelText.CAPTIONS, 2), quiet));
        assertTrue(e.getMessage().contains("16x16x3"), e.getMessage());
        e = assertThrows(MdxException.class, () -> Evaluation.run(
                settings(data, clip, tmp.resolve("no-classifier"), LabelSet.LabelText.CAPTIONS, 2), quiet));
        assertTrue(e.getMessage().contains("classifier folder"), e.getMessage());
        // an eval request is the requester's input, as a generation request is: a user error naming the field
        e = assertThrows(MdxException.class, () -> settings(data, clip, null, LabelSet.LabelText.LABEL, 1));
        assertTrue(e.getMessage().startsWith("images per split must be at least 2"), e.getMessage());
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
