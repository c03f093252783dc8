package dev.mdx.train.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parsing of VAE stage configs, including the shipped ones, and errors that name the bad field. */
class VaeStageConfigTest {
    @TempDir
    Path tmp;

    private static Path repoConfigs() {
        Path p = Path.of("..", "configs", "vae").toAbsolutePath().normalize();
        return Files.isDirectory(p) ? p : Path.of("configs", "vae").toAbsolutePath();
    }

    @Test
    void shippedStageConfigsParse() throws Exception {
        for (String name : new String[] {"emoji-vae.json", "fashion-vae.json"}) {
            VaeStageConfig c = VaeStageConfig.read(repoConfigs().resolve(name));
            assertEquals(VaeStageConfig.Stage.VAE, c.stage());
            assertEquals(4, c.vae().downsampleFactor());
            assertEquals(VaeLoss.Reconstruction.L1, c.loss().reconstruction());
            assertTrue(c.export().float16());
        }
    }

    @Test
    void errorsNameTheField() throws Exception {
        String good = TinyVae.stageJson(tmp, 5, 3, "", "{}");
        Map<String, String> bad = Map.of(
                "stage", "\"decoder\"",
                "loss", "{\"reconstruction\": \"l3\"}",
                "frozen_vae", "\"x\"",
                "export", "{\"dtype\": \"bf16\"}",
                "data", "{\"dataset\": \"d\", \"crop_size\": 5}",
                "extra", "1");
        Map<String, String> expect = Map.of("stage", "stage", "loss", "reconstruction", "frozen_vae", "frozen_vae",
                "export", "dtype", "data", "crop_size", "extra", "extra");
        for (var e : bad.entrySet()) {
            ObjectNode doc = (ObjectNode) JsonConfig.MAPPER.readTree(good);
            doc.set(e.getKey(), JsonConfig.MAPPER.readTree(e.getValue()));
            JsonConfig json = new JsonConfig("stage.json", doc);
            ModelFormatException ex = assertThrows(ModelFormatException.class, () -> VaeStageConfig.from(json, tmp),
                    e.getKey());
            assertTrue(ex.getMessage().contains(expect.get(e.getKey())), e.getKey() + ": " + ex.getMessage());
        }
        ObjectNode light = (ObjectNode) JsonConfig.MAPPER.readTree(good);
        light.put("stage", "light_decoder");
        ModelFormatException ex = assertThrows(ModelFormatException.class,
                () -> VaeStageConfig.from(new JsonConfig("light.json", light), tmp));
        assertTrue(ex.getMessage().contains("'vae'"), ex.getMessage());
    }
}
