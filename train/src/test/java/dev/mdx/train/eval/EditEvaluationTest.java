package dev.mdx.train.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.MdxException;
import dev.mdx.io.JsonConfig;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.ImageEdit;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.testing.OneEngineThread;
import dev.mdx.train.classifier.ShapesDataset;
import dev.mdx.train.data.DataOrder;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDataset;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code mdx eval-edit} on the micro pipeline and the shapes set: what it generates, counts and writes. */
@ExtendWith(OneEngineThread.class)
class EditEvaluationTest {
    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    private static Path model;
    private static Path data;

    @BeforeAll
    static void fixtures() {
        model = EvalFixtures.pipeline(shared.resolve("micro"));
        // 16x16 RGB shapes, three test images of each
        data = ShapesDataset.write(shared.resolve("shapes"), 3, 1, 3, 5);
    }

    /**
     * Classifies a real image of the data set as its own label and anything else by the sum of its bytes (mod 3),
     * and keeps every list of images it was given, in order.
     */
    private static class FakeClassifier implements EditEvaluation.Classifier {
        final List<List<RgbImage>> calls = new ArrayList<>();
        final ImageDataset set;

        FakeClassifier(ImageDataset set) {
            this.set = set;
        }

        @Override
        public List<String> classNames() {
            return ShapesDataset.NAMES;
        }

        @Override
        public int[] classify(List<RgbImage> images) {
            calls.add(images);
            return images.stream().mapToInt(this::classOf).toArray();
        }

        int classOf(RgbImage image) {
            for (int i = 0; i < set.size(); i++) {
                if (Arrays.equals(set.rgb(i), image.rgb())) {
                    return ShapesDataset.NAMES.indexOf(set.label(i));
                }
            }
            int sum = 0;
            for (byte b : image.rgb()) {
                sum += b & 0xff;
            }
            return sum % 3;
        }
    }

    private EditEvalSettings settings(List<Double> strengths, boolean inpaint) {
        return new EditEvalSettings(model, data, tmp.resolve("no-classifier-needed"),
                List.of(new EditEvalSettings.ClassPair("STRIPE", "square")), strengths,
                List.of(new EditEvalSettings.StepSetting(2, true), new EditEvalSettings.StepSetting(3, false)), 2, 7,
                4, inpaint, tmp.resolve("out"), null, 8);
    }

    @Test
    void editsTheSameRealImagesInEveryCellAndCountsTheClassifiersVerdicts() throws Exception {
        ImageDataset set = ImageDataset.open(data);
        FakeClassifier classifier = new FakeClassifier(set);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        EditReport report = EditEvaluation.run(settings(List.of(0.0, 0.5, 1.0), true), set, classifier,
                new PrintStream(log, true, StandardCharsets.UTF_8));

        // the real images: a fixed sample of the test split's stripes, scored as they are
        int[] stripes = Arrays.stream(set.indices(DatasetItem.TEST)).filter(i -> set.label(i).equals("stripe"))
                .toArray();
        int[] items = DataOrder.sample(stripes, 2, EditEvaluation.ITEM_ORDER_SEED);
        EditReport.Pair pair = report.pairs().get(0);
        assertEquals(new EditEvalSettings.ClassPair("stripe", "square"), pair.classes());
        assertArrayEquals(items, pair.items());
        assertEquals("a square", pair.targetPrompt());
        assertEquals("a stripe", pair.sourcePrompt());
        assertEquals(new EditReport.Verdict(2, 1.0, 0.0), pair.real());
        assertEquals(1 + 2 * 3 + 2 * 2, classifier.calls.size(), "real, 2 settings x 3 strengths, 2 x 2 inpaintings");

        // every cell: the images are what the pipeline makes of the same request, and the counts are theirs
        List<EditReport.Img2ImgRow> rows = pair.img2img();
        assertEquals(6, rows.size());
        try (TextToImagePipeline pipeline = TextToImagePipeline.load(model)) {
            for (int c = 0; c < rows.size(); c++) {
                EditReport.Img2ImgRow row = rows.get(c);
                List<RgbImage> seen = classifier.calls.get(1 + c);
                assertEquals(2, seen.size());
                for (int i = 0; i < 2; i++) {
                    RgbImage source = new RgbImage(16, 16, set.rgb(items[i]));
                    RgbImage expected = pipeline.generate(GenerationRequest.builder().prompt("a square").seed(7 + i)
                            .size(16, 16).steps(row.setting().setting().steps())
                            .useStudent(row.setting().setting().useStudent())
                            .edit(ImageEdit.img2img(source, row.strength())).build()).images().get(0);
                    assertArrayEquals(expected.rgb(), seen.get(i).rgb(), "cell " + c + " image " + i);
                }
                int[] predicted = seen.stream().mapToInt(classifier::classOf).toArray();
                assertEquals(EditReport.Verdict.of(predicted, 0, 2), row.verdict());
                List<RgbImage> sources = List.of(new RgbImage(16, 16, set.rgb(items[0])),
                        new RgbImage(16, 16, set.rgb(items[1])));
                assertEquals(EditEvaluation.meanChange(sources, seen, 0, 16), row.meanChange(), 1e-12);
                assertTrue(row.meanChange() > 0, "the VAE round trip alone changes the pixels");
            }
        }
        // strength 0 runs no UNet step; 1 runs them all, from the last timestep
        assertEquals(List.of(2, 2, 2, 3, 3, 3), rows.stream().map(r -> r.setting().steps()).toList());
        assertEquals(List.of(0, 1, 2, 0, 1, 3), rows.stream().map(EditReport.Img2ImgRow::unetSteps).toList());
        assertTrue(Double.isNaN(rows.get(0).firstTimestep()));
        assertEquals(501.0, rows.get(2).firstTimestep(), "2 leading DDIM steps of 1000 with offset 1: 501, 1");
        assertEquals("base model", rows.get(0).setting().model());
        assertEquals("ddim", rows.get(0).setting().sampler());

        // inpainting: the kept half comes back bit-identical, the repainted half changes
        List<EditReport.InpaintRow> inpaint = pair.inpaint();
        assertEquals(List.of("target", "source", "target", "source"),
                inpaint.stream().map(EditReport.InpaintRow::prompted).toList());
        assertEquals(List.of("a square", "a stripe", "a square", "a stripe"),
                inpaint.stream().map(EditReport.InpaintRow::prompt).toList());
        for (int r = 0; r < inpaint.size(); r++) {
            EditReport.InpaintRow row = inpaint.get(r);
            assertEquals(0, row.keptMaxDiff(), row.toString());
            assertTrue(row.repaintedMeanChange() > 0, row.toString());
            List<RgbImage> seen = classifier.calls.get(7 + r);
            int[] predicted = seen.stream().mapToInt(classifier::classOf).toArray();
            assertEquals(EditReport.Verdict.of(predicted, 0, 2), row.verdict());
        }

        // the files
        JsonNode json = JsonConfig.read(tmp.resolve("out").resolve(EditReport.JSON)).root();
        assertEquals(2, json.get("images_per_cell").asInt());
        JsonNode p = json.get("pairs").get(0);
        assertEquals("stripe", p.get("source_class").asText());
        assertEquals(1.0, p.get("real").get("source_fraction").asDouble());
        assertEquals(6, p.get("img2img").size());
        assertEquals("3:base", p.get("img2img").get(3).get("setting").asText());
        assertTrue(p.get("img2img").get(0).get("first_timestep").isNull());
        assertEquals(rows.get(4).verdict().target(), p.get("img2img").get(4).get("target_fraction").asDouble());
        assertEquals(0, p.get("inpaint").get(1).get("kept_max_abs_diff").asInt());
        assertTrue(p.get("crossover").has("2") && p.get("crossover").has("3:base"), p.toString());
        String md = Files.readString(tmp.resolve("out").resolve(EditReport.MARKDOWN));
        assertTrue(md.contains("## stripe images, prompt \"a square\" (square)"), md);
        assertTrue(md.contains("| 3 steps, base model | 1 | 3 | 667 |"), md);
        assertTrue(md.contains("kept half max abs diff"), md);
        assertEquals("grid-stripe-square.png", pair.grid());
        assertEquals("grid-stripe-square.png", p.get("grid").asText());
        assertTrue(md.contains("[grid-stripe-square.png](grid-stripe-square.png)"), md);
        BufferedImage grid = ImageIO.read(tmp.resolve("out").resolve(pair.grid()).toFile());
        // two headings; the real images, 6 image-to-image rows, the masked inputs and 4 inpainting rows of 64 px
        assertTrue(grid.getHeight() > 12 * 64, grid.getWidth() + "x" + grid.getHeight());
        String printed = log.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("warning (2 steps, strength 0): strength 0 runs no denoising step"), printed);
    }

    @Test
    void withoutInpaintingOnlyTheImageToImageRows() {
        ImageDataset set = ImageDataset.open(data);
        FakeClassifier classifier = new FakeClassifier(set);
        EditReport report = EditEvaluation.run(settings(List.of(0.5), false), set, classifier,
                new PrintStream(new ByteArrayOutputStream()));
        assertEquals(2, report.pairs().get(0).img2img().size());
        assertTrue(report.pairs().get(0).inpaint().isEmpty());
        assertEquals(3, classifier.calls.size());
    }

    @Test
    void theCrossoverIsTheFirstStrengthWhereThePromptedClassLeads() {
        EditReport.Setting s = new EditReport.Setting(new EditEvalSettings.StepSetting(8, true),
                "8-step distilled student", "ddim", 8, 1.0);
        List<EditReport.Img2ImgRow> crossing = List.of(row(s, 0.3, 0.9, 0.1), row(s, 0.5, 0.5, 0.5),
                row(s, 0.75, 0.2, 0.7), row(s, 0.9, 0.0, 1.0));
        assertEquals(0.75, EditReport.crossover(crossing));
        assertEquals("crosses over between 0.5 and 0.75", EditReport.describeCrossover(crossing));
        List<EditReport.Img2ImgRow> never = List.of(row(s, 0.3, 0.9, 0.1), row(s, 0.9, 0.6, 0.3));
        assertNull(EditReport.crossover(never));
        assertEquals("does not cross over: the source class leads or ties up to strength 0.9",
                EditReport.describeCrossover(never));
        assertEquals("the prompted class leads already at the lowest strength, 0.3",
                EditReport.describeCrossover(List.of(row(s, 0.3, 0.1, 0.8))));
        assertEquals(new EditReport.Verdict(4, 0.5, 0.25), EditReport.Verdict.of(new int[] {1, 1, 2, 0}, 1, 2));
    }

    private static EditReport.Img2ImgRow row(EditReport.Setting s, double strength, double source, double target) {
        return new EditReport.Img2ImgRow(s, strength, 1, 500, new EditReport.Verdict(10, source, target), 0, 0);
    }

    @Test
    void pixelMeasuresCoverTheirRowsOnly() {
        RgbImage a = new RgbImage(2, 2, new byte[12]);
        byte[] b = new byte[12];
        b[0] = 10;          // row 0
        b[7] = (byte) 200;  // row 1
        List<RgbImage> one = List.of(a);
        List<RgbImage> other = List.of(new RgbImage(2, 2, b));
        assertEquals(10, EditEvaluation.maxDiff(one, other, 0, 1));
        assertEquals(200, EditEvaluation.maxDiff(one, other, 1, 2));
        assertEquals(210.0 / 12, EditEvaluation.meanChange(one, other, 0, 2), 1e-12);
        assertEquals(10.0 / 6, EditEvaluation.meanChange(one, other, 0, 1), 1e-12);
        var mask = EditEvaluation.topHalfMask(3, 4);
        assertEquals(255, mask.at(2, 1));
        assertEquals(0, mask.at(0, 2));
        assertEquals("T-shirt", EditEvaluation.abbreviate("T-shirt/top"));
        assertEquals("Ankle boot", EditEvaluation.abbreviate("Ankle boot"));
    }

    @Test
    void settingsParseAndRefuseWithOneClearMessage() {
        assertEquals(new EditEvalSettings.ClassPair("T-shirt/top", "Ankle boot"),
                EditEvalSettings.ClassPair.parse("T-shirt/top: Ankle boot"));
        assertEquals(new EditEvalSettings.StepSetting(8, false), EditEvalSettings.StepSetting.parse("8:base"));
        assertEquals(new EditEvalSettings.StepSetting(1, true), EditEvalSettings.StepSetting.parse("1"));
        assertEquals("8:base", new EditEvalSettings.StepSetting(8, false).toString());
        MdxException e = assertThrows(MdxException.class, () -> EditEvalSettings.ClassPair.parse("Trouser"));
        assertTrue(e.getMessage().contains("SOURCE:TARGET"), e.getMessage());
        e = assertThrows(MdxException.class, () -> EditEvalSettings.StepSetting.parse("eight"));
        assertTrue(e.getMessage().contains("N:base"), e.getMessage());
        e = assertThrows(MdxException.class, () -> settings(List.of(1.5), false));
        assertTrue(e.getMessage().contains("between 0 and 1"), e.getMessage());
        e = assertThrows(MdxException.class, () -> new EditEvalSettings(model, data, tmp, List.of(
                new EditEvalSettings.ClassPair("stripe", "Stripe")), List.of(0.5),
                EditEvalSettings.DEFAULT_STEP_SETTINGS, 2, 0, 4, true, tmp, null, 8));
        assertTrue(e.getMessage().contains("into itself"), e.getMessage());
        e = assertThrows(MdxException.class, () -> new EditEvalSettings(model, data, tmp, List.of(
                new EditEvalSettings.ClassPair("stripe", "square"), new EditEvalSettings.ClassPair("Stripe", "square")),
                List.of(0.5), EditEvalSettings.DEFAULT_STEP_SETTINGS, 2, 0, 4, true, tmp, null, 8));
        assertTrue(e.getMessage().contains("given twice"), e.getMessage());
        assertEquals("grid-t-shirt-top-ankle-boot.png",
                EditReport.gridFile(new EditEvalSettings.ClassPair("T-shirt/top", "Ankle boot")));
    }

    @Test
    void unknownClassesAreNamedWithTheKnownOnes() {
        ImageDataset set = ImageDataset.open(data);
        EditEvalSettings s = new EditEvalSettings(model, data, tmp, List.of(
                new EditEvalSettings.ClassPair("stripe", "circle")), List.of(0.5),
                List.of(new EditEvalSettings.StepSetting(2, true)), 2, 0, 4, false, tmp.resolve("out"), null, 8);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        MdxException e = assertThrows(MdxException.class,
                () -> EditEvaluation.run(s, set, new FakeClassifier(set), quiet));
        assertTrue(e.getMessage().contains("'circle' is not a class of") && e.getMessage().contains("stripe, column,"
                + " square"), e.getMessage());
        EditEvaluation.Classifier partial = new FakeClassifier(set) {
            @Override
            public List<String> classNames() {
                return List.of("stripe", "column");
            }
        };
        EditEvalSettings square = new EditEvalSettings(model, data, tmp, List.of(
                new EditEvalSettings.ClassPair("stripe", "square")), List.of(0.5),
                List.of(new EditEvalSettings.StepSetting(2, true)), 2, 0, 4, false, tmp.resolve("out"), null, 8);
        e = assertThrows(MdxException.class, () -> EditEvaluation.run(square, set, partial, quiet));
        assertTrue(e.getMessage().contains("the classifier does not know the class 'square'"), e.getMessage());
    }
}
