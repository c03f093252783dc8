package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `mdx export onnx` and `mdx generate --engine onnx` parse and delegate; bad flags are one-line errors. */
class ExportCommandTest {
    @TempDir
    Path tmp;

    @Test
    void exportsAFolderWithItsRuntimeDescription() {
        Path micro = TestModels.microPipeline(tmp.resolve("micro"));
        Path out = tmp.resolve("onnx");
        CliRun r = CliRun.mdx("export", "onnx", micro.toString(), out.toString(), "--precision", "fp16");
        assertEquals(ExitCodes.OK, r.code(), r.err());
        assertTrue(r.out().contains("wrote " + out), r.out());
        for (String f : new String[] {"text_encoder.onnx", "unet.onnx", "vae_decoder.onnx", "tokenizer/vocab.json",
            "tokenizer/merges.txt"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        JsonNode json = JsonConfig.read(out.resolve("model.json")).root();
        assertEquals("fp16", json.get("weights").asText());
        assertEquals(1000, json.get("scheduler").get("alphas_cumprod").size());
        assertEquals("epsilon", json.get("scheduler").get("prediction_type").asText());
        assertEquals(16, json.get("tokenizer").get("model_max_length").asInt());
    }

    @Test
    void badPrecisionAndEngineAreOneLineErrors() {
        Path micro = TestModels.microPipeline(tmp.resolve("micro"));
        CliRun.assertShortError(CliRun.mdx("export", "onnx", micro.toString(), tmp.resolve("o").toString(),
                "--precision", "int8"), ExitCodes.USAGE, "mdx export onnx: --precision must be fp32 or fp16");
        CliRun.assertShortError(CliRun.generate(micro, tmp.resolve("x.png"), "a fox", "--engine", "tf"),
                ExitCodes.USAGE, "--engine must be torch or onnx");
        CliRun.assertShortError(CliRun.generate(micro, tmp.resolve("x.png"), "a (fox:1.5)", "--engine", "onnx"),
                ExitCodes.USAGE, "-p/--prompt is not supported by the onnx engine (weighted prompts");
    }

    @Test
    void aFolderThatIsNoPipelineIsOneLine() {
        CliRun r = CliRun.mdx("export", "onnx", tmp.toString(), tmp.resolve("o").toString());
        CliRun.assertShortError(r, ExitCodes.FAILURE, "mdx export onnx: error: ", "is not a complete diffusers pipeline");
    }

    @Test
    void generatesWithTheOnnxEngine() throws Exception {
        Path micro = TestModels.microPipeline(tmp.resolve("micro"));
        Path png = tmp.resolve("fox.png");
        CliRun r = CliRun.generate(micro, png, "a fox", "--engine", "onnx", "-s", "3");
        assertEquals(ExitCodes.OK, r.code(), r.err());
        assertTrue(r.out().contains("ONNX Runtime"), r.out());
        assertTrue(Files.size(png) > 0);
    }
}
