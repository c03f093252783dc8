package dev.mdx.cli;

import static dev.mdx.cli.CliRun.assertShortError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.testing.OneEngineThread;
import dev.mdx.train.eval.EvalFixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code mdx eval} through {@link Main#run}: outputs on tiny random models, and one line for each bad input. */
@ExtendWith(OneEngineThread.class)
class EvalCommandTest {
    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    private static Path model;
    private static Path data;
    private static Path clip;
    private static Path classifier;

    @BeforeAll
    static void fixtures() {
        model = EvalFixtures.pipeline(shared.resolve("micro"));
        data = EvalFixtures.dataset(shared.resolve("shapes"), 1, false);
        clip = EvalFixtures.clip(shared.resolve("clip"), 1);
        classifier = EvalFixtures.classifier(shared.resolve("classifier"), 1);
    }

    private CliRun eval(String... extra) {
        List<String> args = new ArrayList<>(List.of("eval", model.toString(), "--dataset", data.toString(), "--clip",
                clip.toString(), "--steps", "2", "--images", "3", "-t", "1", "--out", tmp.resolve("out").toString()));
        args.addAll(List.of(extra));
        return CliRun.mdx(args.toArray(String[]::new));
    }


    @Test
    void writesTheReportFiles() throws Exception {
        CliRun r = eval("--classifier", classifier.toString(), "--cfg-scale", "3", "--sampler", "euler", "-s", "9",
                "--batch", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| held_in | train | 3 |"), r.out());
        JsonNode json = JsonConfig.read(tmp.resolve("out/eval.json")).root();
        assertEquals("euler", json.get("sampler").asText());
        assertEquals(3.0, json.get("cfg_scale").asDouble());
        assertEquals(9, json.get("seed").asInt());
        assertEquals(3, json.get("splits").get("held_out").get("images").asInt());
        assertTrue(json.get("splits").get("held_out").get("classifier_accuracy").isNumber());
        assertTrue(Files.isRegularFile(tmp.resolve("out/eval.md")));
        assertTrue(Files.isRegularFile(tmp.resolve("out/grid.png")));
    }

    @Test
    void badInputsAreOneLineAndANonZeroExit() throws Exception {
        assertShortError(eval("--dataset", tmp.resolve("no-data").toString()), ExitCodes.FAILURE, "no-data");
        assertShortError(eval("--clip", tmp.resolve("no-clip").toString()), ExitCodes.FAILURE,
                "CLIP folder " + tmp.resolve("no-clip") + " does not exist");
        assertShortError(eval("--classifier", tmp.resolve("no-cls").toString()), ExitCodes.FAILURE,
                "classifier folder");
        assertShortError(eval("--images", "1"), ExitCodes.USAGE, "--images must be at least 2");
        assertShortError(eval("--steps", "0"), ExitCodes.USAGE, "--steps");
        assertShortError(eval("--sampler", "magic"), ExitCodes.USAGE, "--sampling-method");
        assertShortError(eval("--label-text", "both"), ExitCodes.USAGE, "--label-text");
        assertShortError(eval("--images", "many"), ExitCodes.USAGE, "--images");
        Path file = Files.writeString(tmp.resolve("file.txt"), "x");
        assertShortError(eval("--out", file.toString()), ExitCodes.USAGE, "is a file");
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"eval", tmp.resolve("no-model").toString(), "--dataset", data.toString(),
            "--clip", clip.toString(), "--out", tmp.resolve("o").toString()}, new PrintWriter(new StringWriter()),
                new PrintWriter(err, true));
        assertEquals(ExitCodes.FAILURE, code, err.toString());
        assertTrue(err.toString().contains("no-model"), err.toString());
        assertFalse(err.toString().contains("Exception"), err.toString());

        StringWriter noClip = new StringWriter();
        code = Main.run(new String[] {"eval", model.toString(), "--dataset", data.toString(), "--out",
            tmp.resolve("o").toString()}, new PrintWriter(new StringWriter()), new PrintWriter(noClip, true));
        assertEquals(ExitCodes.USAGE, code, noClip.toString());
        assertTrue(noClip.toString().contains("no CLIP to score with: pass --clip DIR"), noClip.toString());
    }
}
