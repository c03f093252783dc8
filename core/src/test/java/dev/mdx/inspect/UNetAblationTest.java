package dev.mdx.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.models.ArchitecturePresets;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class UNetAblationTest {
    private static final Map<String, UNetAblation.Row> ROWS = UNetAblation.rows(64).stream()
            .collect(Collectors.toMap(UNetAblation.Row::id, Function.identity()));

    @Test
    void allChangesTogetherAreTheMobileDiffusionPreset() {
        UNetConfig preset = ArchitecturePresets.unet("mobilediffusion");
        ComponentCost all = ROWS.get("all").cost();
        assertEquals(UNet2DConditionModel.fromConfig(preset).parameterCount(), all.params());
        assertEquals(UNetCost.of(preset, 1, 64, 64, 77).flops(), all.flops());
    }

    @Test
    void everyChangeAloneDiffersFromTheBaselineOnlyWhereItShould() {
        assertEquals(2 + UNetAblation.CHANGES.size(), ROWS.size());
        UNetAblation.Row base = ROWS.get("baseline");
        assertEquals(17, resnets(base.config()), "SD-1.5's 2 down / 2 mid / 3 up on three levels");
        assertEquals(12, resnets(ROWS.get("C2").config()));
        for (UNetAblation.Change c : UNetAblation.CHANGES) {
            assertNotEquals(base.config(), ROWS.get(c.id()).config(), c.id());
        }
        // activation and attention kind change the op, not the work or the weights
        for (String same : List.of("T4", "T5")) {
            assertEquals(base.cost().params(), ROWS.get(same).cost().params(), same);
            assertEquals(base.cost().flops(), ROWS.get(same).cost().flops(), same);
        }
        for (String smaller : List.of("T2", "T3", "T6", "C1", "C2")) {
            assertTrue(ROWS.get(smaller).cost().params() < base.cost().params(), smaller);
            assertTrue(ROWS.get(smaller).cost().flops() < base.cost().flops(), smaller);
        }
        // T2 keeps cross-attention and the FFN, so only self-attention work goes
        ComponentCost t2 = ROWS.get("T2").cost();
        assertEquals(base.cost().part(UNetCost.CROSS_ATTENTION).flops(), t2.part(UNetCost.CROSS_ATTENTION).flops());
        assertTrue(t2.part(UNetCost.SELF_ATTENTION).flops() < base.cost().part(UNetCost.SELF_ATTENTION).flops());
        // T1 moves transformer work from 64x64 to 16x16: fewer FLOPs, more weights
        assertTrue(ROWS.get("T1").cost().flops() < base.cost().flops());
        assertTrue(ROWS.get("T1").cost().params() > base.cost().params());
    }

    private static long resnets(UNetConfig c) {
        return UNet2DConditionModel.fromConfig(c).namedParameters().keySet().stream()
                .filter(k -> k.contains(".resnets.") && k.endsWith(".norm1.weight")).count();
    }
}
