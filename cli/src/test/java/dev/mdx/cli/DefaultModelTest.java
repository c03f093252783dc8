package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.BundledModels;
import dev.mdx.train.clip.ClipScorer;
import dev.mdx.train.clip.Retrieval;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command on a fresh clone: the bundled emoji model (no -m) draws its prompt, and so do its
 * shipped students when --steps asks for 8 or 1. Judged by the small CLIP shipped beside the model, among every emoji
 * label it was trained on: the label must rank in the top 5% (chance puts it near the middle). Measured ranks for
 * seed 1: base 15, 8-step student 0, one-step UFOGen student 98 of 3,944.
 */
class DefaultModelTest {
    private static final String PROMPT = "a red apple";
    private static final String LABEL = "red apple";

    @TempDir
    Path tmp;

    @Test
    void theDefaultModelDrawsItsPromptsLabelWellAboveChance() throws Exception {
        Generated g = generate();
        // chance would put the label at rank ~ labels / 2
        assertTrue(g.rank() < g.labels() / 20, "'" + LABEL + "' ranks " + g.rank() + " of " + g.labels());
    }

    @Test
    void oneStepUsesTheShippedUfoGenStudentAndStillDrawsThePrompt() throws Exception {
        Generated g = generate("--steps", "1");
        assertTrue(g.err().contains("using the one-step UFOGen student (students/ufogen)"), g.err());
        assertTrue(g.rank() < g.labels() / 20, "'" + LABEL + "' ranks " + g.rank() + " of "
                + g.labels());
    }

    @Test
    void eightStepsUseTheShippedDistilledStudent() throws Exception {
        Generated g = generate("--steps", "8");
        assertTrue(g.err().contains("using the 8-step distilled student (students/distill-8)"), g.err());
        assertTrue(g.rank() < g.labels() / 20, "'" + LABEL + "' ranks " + g.rank() + " of " + g.labels());
    }

    private record Generated(String err, int rank, int labels) {}

    /** The README's prompt with seed 1 and the given flags; the rank of its label among all by the bundled CLIP. */
    private Generated generate(String... flags) throws Exception {
        Path png = tmp.resolve("apple.png");
        StringWriter err = new StringWriter();
        List<String> args = new java.util.ArrayList<>(List.of("generate", PROMPT, "-s", "1", "-t", "1", "-o",
                png.toString()));
        args.addAll(List.of(flags));
        int code = Main.run(args.toArray(String[]::new), new PrintWriter(new StringWriter()),
                new PrintWriter(err, true));
        assertEquals(0, code, err.toString());

        BufferedImage image = ImageIO.read(png.toFile());
        int w = image.getWidth();
        int h = image.getHeight();
        float[] chw = new float[3 * h * w];
        double sum = 0;
        double sumSq = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = image.getRGB(x, y);
                for (int c = 0; c < 3; c++) {
                    int v = (rgb >> (16 - 8 * c)) & 0xff;
                    chw[(c * h + y) * w + x] = v / 127.5f - 1;
                    sum += v;
                    sumSq += (double) v * v;
                }
            }
        }
        double n = 3.0 * h * w;
        double std = Math.sqrt(sumSq / n - (sum / n) * (sum / n));
        assertTrue(std > 10, "not a blank image: pixel std " + std);

        Path clip = BundledModels.resolve(null).resolve("clip");
        List<String> labels = Files.readAllLines(clip.resolve("labels.txt")).stream().filter(l -> !l.isBlank())
                .toList();
        int truth = labels.indexOf(LABEL);
        assertTrue(truth >= 0, LABEL + " is a label");
        try (NDManager m = NDManager.newBaseManager()) {
            ClipScorer scorer = ClipScorer.load(clip, m, 256);
            float[][] text = scorer.textEmbeddings(labels);
            float[][] img = scorer.imageEmbeddings((scope, from, to) -> scope.create(chw, new Shape(1, 3, h, w)), 1);
            double[] scores = Retrieval.cosine(img, text)[0];
            int rank = 0;
            for (double s : scores) {
                rank += s > scores[truth] ? 1 : 0;
            }
            System.out.printf("default model %s: '%s' ranks %d of %d labels for '%s', seed 1%n", List.of(flags),
                    LABEL, rank, labels.size(), PROMPT);
            return new Generated(err.toString(), rank, labels.size());
        }
    }
}
