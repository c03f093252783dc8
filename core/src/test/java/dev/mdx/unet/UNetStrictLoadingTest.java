package dev.mdx.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.io.StateDictMismatchException;
import dev.mdx.io.StateDicts;
import dev.mdx.testing.Golden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A weights file with a missing, an extra and a mis-shaped key is rejected with all three named at once. */
class UNetStrictLoadingTest {
    @Test
    void reportsMissingUnexpectedAndMisShapedKeysTogether(@TempDir Path tmp) throws Exception {
        Path dir = Golden.componentDirs("UNet2DConditionModel").get(0);
        UNetConfig config = UNetConfig.read(dir.resolve(UNet2DConditionModel.CONFIG_FILE));
        try (NDManager manager = NDManager.newBaseManager()) {
            UNet2DConditionModel source = UNet2DConditionModel.fromConfig(config);
            StateDicts.initRandom(source, manager, 7);
            Map<String, NDArray> tensors = new LinkedHashMap<>(StateDicts.tensors(source));
            List<String> keys = List.copyOf(tensors.keySet());
            // chosen by position and rank, not by name: the golden config decides which layers exist
            String missing = keys.get(keys.size() / 2);
            String misShaped = keys.stream()
                    .filter(k -> !k.equals(missing) && tensors.get(k).getShape().dimension() > 1)
                    .findFirst().orElseThrow();
            // a key of the other attention layout (shared or separate k/v projections) than the config's
            String unexpected = Stream.of("mid_block.attentions.0.transformer_blocks.0.attn1.to_kv.weight",
                    "mid_block.attentions.0.transformer_blocks.0.attn1.to_k.weight")
                    .filter(k -> !tensors.containsKey(k)).findFirst().orElseThrow();
            tensors.remove(missing);
            tensors.put(misShaped, manager.zeros(new ai.djl.ndarray.types.Shape(3, 3)));
            tensors.put(unexpected, manager.zeros(new ai.djl.ndarray.types.Shape(4, 4)));
            Files.writeString(tmp.resolve(UNet2DConditionModel.CONFIG_FILE), config.toJson());
            SafeTensorsWriter.write(tmp.resolve(UNet2DConditionModel.WEIGHTS_FILE), tensors, Map.of());

            StateDictMismatchException e = assertThrows(StateDictMismatchException.class,
                    () -> UNet2DConditionModel.load(tmp, manager));
            assertEquals(List.of(missing), e.missing());
            assertEquals(List.of(unexpected), e.unexpected());
            assertEquals(1, e.misShaped().size());
            assertTrue(e.misShaped().get(0).startsWith(misShaped), e.misShaped().toString());
            assertTrue(e.getMessage().contains(missing) && e.getMessage().contains(unexpected)
                    && e.getMessage().contains(misShaped), e.getMessage());
        }
    }
}
