package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.lora.KohyaLoraWriter;
import dev.mdx.lora.LoraPart;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.LoraFixtures;
import dev.mdx.testing.TestModels;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code mdx generate --lora FILE[:SCALE]}, {@code <lora:NAME:SCALE>} with {@code --lora-dir}, {@code --lora-lenient}.
 */
class GenerateLoraCommandTest {
    private static Path shared;
    private static Path micro;
    private static Path lora;
    private static int savedThreads;

    @BeforeAll
    static void makeModel() throws IOException {
        savedThreads = EngineThreads.current();
        EngineThreads.set(1);
        shared = Files.createTempDirectory("mdx-cli-lora");
        micro = TestModels.microPipeline(shared.resolve("micro"));
        try (NDManager manager = NDManager.newBaseManager()) {
            List<KohyaLoraWriter.Layer> layers = new ArrayList<>(LoraFixtures.randomLayers(LoraPart.UNET,
                    UNet2DConditionModel.fromConfig(UNetConfig.read(micro.resolve("unet/config.json"))),
                    p -> p.contains("attn"), 2, 0.3f, 1, manager));
            layers.addAll(LoraFixtures.randomLayers(LoraPart.TEXT_ENCODER,
                    new ClipTextModel(ClipTextConfig.read(micro.resolve("text_encoder/config.json"))),
                    p -> p.endsWith("q_proj"), 2, 0.3f, 2, manager));
            lora = LoraFixtures.write(Files.createDirectories(shared.resolve("loras")).resolve("style.safetensors"),
                    layers);
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        EngineThreads.set(savedThreads);
        CliRun.deleteTree(shared);
    }

    private static CliRun generate(String prompt, String... extra) {
        return CliRun.generate(micro, shared.resolve("out.png"), prompt, extra);
    }

    private static void assertClean(CliRun r) {
        assertFalse(r.err().contains("\tat ") || r.err().contains("internal error"), r.err());
    }

    @Test
    void repeatedLoraFlagsAndPromptTagsAreAppliedAndCounted() {
        CliRun r = generate("a fox <lora:style:0.5>", "--lora", lora + ":0.8", "--lora", lora.toString(),
                "--lora-model-dir", lora.getParent().toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("note: LoRA style.safetensors at 0.8: "), r.err());
        assertTrue(r.err().contains("note: LoRA style.safetensors at 1: "), r.err());
        assertTrue(r.err().contains("note: LoRA style.safetensors at 0.5: ")
                && r.err().contains("from <lora:style:0.5>"), r.err());
        assertTrue(r.err().contains("tensors applied (") && r.err().contains("UNet and 1 text encoder layers, kohya)"),
                r.err());
        assertTrue(Files.isRegularFile(shared.resolve("out.png")));
    }

    @Test
    void badLoraInputIsOneClearMessage() throws IOException {
        CliRun missing = generate("a fox", "--lora", shared.resolve("nope.safetensors").toString());
        assertEquals(ExitCodes.FAILURE, missing.code(), missing.err());
        assertTrue(missing.err().contains("nope.safetensors: no such file"), missing.err());
        assertClean(missing);

        Path ckpt = Files.write(shared.resolve("old.ckpt"), new byte[] {(byte) 0x80, 2});
        CliRun pickled = generate("a fox", "--lora", ckpt.toString());
        assertEquals(ExitCodes.FAILURE, pickled.code(), pickled.err());
        assertTrue(pickled.err().contains("pickled PyTorch file (.ckpt/.pt)"), pickled.err());
        assertClean(pickled);

        CliRun scale = generate("a fox", "--lora", lora + ":strong");
        assertEquals(ExitCodes.USAGE, scale.code(), scale.err());
        assertTrue(scale.err().contains("--lora '" + lora + ":strong': the scale after ':' must be a number"),
                scale.err());

        CliRun name = generate("a fox <lora:other>", "--lora-dir", lora.getParent().toString());
        assertEquals(ExitCodes.USAGE, name.code(), name.err());
        assertTrue(name.err().contains("-p/--prompt has <lora:other>, but no LoRA 'other' in")
                && name.err().contains("(it has: style)"), name.err());
    }

    @Test
    void keysThatMatchNothingAreListedAndFailUnlessLenient() {
        Path bad = shared.resolve("extra.safetensors");
        try (NDManager manager = NDManager.newBaseManager(); SafeTensorsFile st = SafeTensorsFile.open(lora)) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (String k : st.tensors().keySet()) {
                tensors.put(k, st.load(k, manager));
            }
            tensors.put("lora_unet_input_blocks_1_1_proj_in.lora_down.weight", manager.zeros(new Shape(2, 8)));
            tensors.put("lora_unet_input_blocks_1_1_proj_in.lora_up.weight", manager.zeros(new Shape(8, 2)));
            SafeTensorsWriter.write(bad, tensors, Map.of());
        }
        CliRun strict = generate("a fox", "--lora", bad.toString());
        assertEquals(ExitCodes.FAILURE, strict.code(), strict.err());
        assertTrue(strict.err().contains("2 of its ") && strict.err().contains("tensors match nothing in this model")
                && strict.err().contains("lora_unet_input_blocks_1_1_proj_in.{lora_down.weight, lora_up.weight}:"
                        + " no layer 'input_blocks_1_1_proj_in' in the UNet")
                && strict.err().contains("--lora-lenient"), strict.err());
        assertClean(strict);

        CliRun lenient = generate("a fox", "--lora", bad.toString(), "--lora-lenient");
        assertEquals(0, lenient.code(), lenient.err());
        assertTrue(lenient.err().contains("warning: LoRA " + bad.toAbsolutePath().normalize() + ": 2 of its"),
                lenient.err());
    }
}
