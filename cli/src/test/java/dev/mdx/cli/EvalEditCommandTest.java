package dev.mdx.cli;

import static dev.mdx.cli.CliRun.assertShortError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.testing.OneEngineThread;
import dev.mdx.train.eval.EvalFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code mdx eval-edit} through {@link Main#run}: outputs on tiny random models, and one line for each bad input. */
@ExtendWith(OneEngineThread.class)
class EvalEditCommandTest {
    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    private static Path model;
    private static Path data;
    private static Path classifier;

    @BeforeAll
    static void fixtures() {
        model = EvalFixtures.pipeline(shared.resolve("micro"));
        data = EvalFixtures.dataset(shared.resolve("shapes"), 1, false);
        classifier = EvalFixtures.classifier(shared.resolve("classifier"), 1);
    }

    private CliRun evalEdit(String... extra) {
        List<String> args = new ArrayList<>(List.of("eval-edit", model.toString(), "--dataset", data.toString(),
                "--classifier", classifier.toString(), "--pair", "stripe:square", "--steps", "2", "--images", "2",
                "-t", "1", "--out", tmp.resolve("out").toString()));
        args.addAll(List.of(extra));
        return CliRun.mdx(args.toArray(String[]::new));
    }


    @Test
    void writesTheReportFiles() throws Exception {
        CliRun r = evalEdit("--pair", "Column:stripe", "--strengths", "0.5, 1", "--steps", "2,3:base", "-s", "4",
                "--no-inpaint");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| 3 steps, base model | 0.5 | 1 |"), r.out());
        JsonNode json = JsonConfig.read(tmp.resolve("out").resolve("edit.json")).root();
        assertEquals(4, json.get("seed").asInt());
        // --pair adds a pair each time; the class names are matched in any case
        JsonNode pairs = json.get("pairs");
        assertEquals(2, pairs.size(), json.toString());
        assertEquals("stripe", pairs.get(0).get("source_class").asText());
        assertEquals("column", pairs.get(1).get("source_class").asText());
        assertEquals("stripe", pairs.get(1).get("target_class").asText());
        assertEquals(4, pairs.get(1).get("img2img").size());
        assertEquals(0, pairs.get(1).get("inpaint").size());
        assertTrue(pairs.get(1).get("real").get("source_fraction").isNumber());
        assertTrue(Files.isRegularFile(tmp.resolve("out").resolve("edit.md")));
        assertTrue(Files.isRegularFile(tmp.resolve("out").resolve("grid-stripe-square.png")));
        assertTrue(Files.isRegularFile(tmp.resolve("out").resolve("grid-column-stripe.png")));
        assertTrue(r.out().contains("grid-column-stripe.png"), r.out());
    }

    @Test
    void inpaintsByDefault() throws Exception {
        CliRun r = evalEdit("--strengths", "0.5");
        assertEquals(0, r.code(), r.err());
        JsonNode pair = JsonConfig.read(tmp.resolve("out").resolve("edit.json")).root().get("pairs").get(0);
        assertEquals(2, pair.get("inpaint").size());
        assertEquals(0, pair.get("inpaint").get(0).get("kept_max_abs_diff").asInt());
    }

    @Test
    void badInputsAreOneLineAndANonZeroExit() throws Exception {
        assertShortError(evalEdit("--pair", "stripe"), ExitCodes.USAGE, "SOURCE:TARGET");
        assertShortError(evalEdit("--pair", "stripe:stripe"), ExitCodes.USAGE, "into itself");
        assertShortError(evalEdit("--strengths", "0.5,x"), ExitCodes.USAGE, "--strengths: 'x' is not a number");
        assertShortError(evalEdit("--strengths", "1.2"), ExitCodes.USAGE, "between 0 and 1");
        assertShortError(evalEdit("--strengths", ","), ExitCodes.USAGE, "--strengths needs at least one value");
        assertShortError(evalEdit("--steps", "0"), ExitCodes.USAGE, "steps must be at least 1");
        assertShortError(evalEdit("--steps", "8:student"), ExitCodes.USAGE, "N:base");
        assertShortError(evalEdit("--images", "0"), ExitCodes.USAGE, "images per cell must be at least 1");
        assertShortError(evalEdit("--pair", "stripe:circle"), ExitCodes.FAILURE, "'circle' is not a class of");
        assertShortError(evalEdit("--dataset", tmp.resolve("no-data").toString()), ExitCodes.FAILURE, "no-data");
        assertShortError(evalEdit("--classifier", tmp.resolve("no-cls").toString()), ExitCodes.FAILURE,
                "classifier folder");
        Path file = Files.writeString(tmp.resolve("file.txt"), "x");
        assertShortError(evalEdit("--out", file.toString()), ExitCodes.USAGE, "is a file");
        CliRun noClassifier = CliRun.mdx("eval-edit", model.toString(), "--dataset", data.toString(), "--pair",
                "stripe:square", "--out", tmp.resolve("o").toString());
        assertShortError(noClassifier, ExitCodes.USAGE, "no classifier to score with: pass --classifier DIR");
        assertShortError(CliRun.mdx("eval-edit", tmp.resolve("no-model").toString(), "--dataset", data.toString(),
                "--pair", "stripe:square", "--classifier", classifier.toString(), "--out",
                tmp.resolve("o").toString()), ExitCodes.FAILURE, "no-model");
    }
}
