package dev.mdx.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.StateDicts;
import dev.mdx.memory.MemoryEstimator;
import dev.mdx.models.ArchitecturePresets;
import dev.mdx.testing.TestModels;
import dev.mdx.vae.VaeTiling;
import org.junit.jupiter.api.Test;

/**
 * Long prompts give the UNets a context of chunks x 77 positions: Stable Diffusion's and MobileDiffusion's
 * cross-attention (softmax, and ReLU over the key count with the shared key/value projection) read any length.
 * The check that fails when they do not: attention over the context written twice, [c; c], equals attention over c.
 */
class LongContextUNetTest {
    private static final String SD = """
            {"_class_name": "UNet2DConditionModel", "sample_size": 8, "in_channels": 4, "out_channels": 4,
             "down_block_types": ["CrossAttnDownBlock2D"], "up_block_types": ["CrossAttnUpBlock2D"],
             "block_out_channels": [8], "layers_per_block": 1, "norm_num_groups": 4, "cross_attention_dim": 12,
             "attention_head_dim": 2}""";

    @Test
    void stableDiffusionUNetReadsALongerContext() {
        assertDoubledContextChangesNothing(SD);
    }

    @Test
    void mobileDiffusionUNetReadsALongerContext() {
        assertDoubledContextChangesNothing(TestModels.MICRO_MOBILE_DIFFUSION_UNET);
    }

    private static void assertDoubledContextChangesNothing(String config) {
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(UNetConfig.parse("unet", config));
            StateDicts.initRandom(unet, m, 5);
            NDArray x = m.randomNormal(new Shape(1, 4, 8, 8));
            NDArray t = m.create(new float[] {500});
            NDArray c = m.randomNormal(new Shape(1, 77, 12));
            NDArray once = unet.forward(x, t, c);
            NDArray twice = unet.forward(x, t, c.concat(c, 1));
            assertEquals(once.getShape(), twice.getShape());
            float[] a = once.toFloatArray();
            float[] b = twice.toFloatArray();
            double worst = 0;
            for (int i = 0; i < a.length; i++) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]));
            }
            assertTrue(worst < 1e-4, "context [c; c] vs c differ by " + worst);
            // and a context of other content does change the output (the check above can fail)
            NDArray other = unet.forward(x, t, c.concat(m.randomNormal(new Shape(1, 77, 12)), 1));
            assertTrue(other.sub(once).abs().max().getFloat() > 1e-4);
        }
    }

    @Test
    void theMemoryEstimateGrowsWithThePromptsChunks() {
        MemoryEstimator sd = new MemoryEstimator(ArchitecturePresets.unet("sd15"), ArchitecturePresets.vae("sd15"),
                ArchitecturePresets.textEncoder("sd15"));
        long one = sd.estimate(2, 512, 512, VaeTiling.NONE).total();
        long three = sd.forPromptChunks(3).estimate(2, 512, 512, VaeTiling.NONE).total();
        assertTrue(three > one, one + " vs " + three);
        assertEquals(one, sd.forPromptChunks(1).estimate(2, 512, 512, VaeTiling.NONE).total());
    }
}
