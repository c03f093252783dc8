package dev.mdx.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.FeedForwardActivation;
import dev.mdx.nn.Parameter;
import dev.mdx.tensor.Ops;
import dev.mdx.testing.Golden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The MobileDiffusion options wired through a whole UNet: keys, config round trip, save/load, gradients. */
class MobileDiffusionOptionsTest {
    private static final String MD_CONFIG = """
            {"_class_name": "UNet2DConditionModel", "sample_size": 16, "in_channels": 4, "out_channels": 4,
             "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
             "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
             "block_out_channels": [16, 32, 32], "layers_per_block": [1, 1, 2], "norm_num_groups": 8,
             "cross_attention_dim": 24, "attention_head_dim": [2, 4, 4], "use_linear_projection": true,
             "transformer_layers_per_block": [1, 1, 2],
             "attention_kind": "relu", "shared_kv_projection": true, "ff_activation": "swiglu", "ff_mult": 3,
             "separable_conv_levels": [false, true, true], "self_attention_levels": [true, false, true],
             "mid_block_transformer_layers": 3}""";

    @Test
    void configRoundTripsAndKeepsTheNewKeys() {
        UNetConfig c = UNetConfig.parse("md", MD_CONFIG);
        assertEquals(Ops.AttentionKind.RELU, c.attentionKind());
        assertEquals(FeedForwardActivation.SWIGLU, c.ffActivation());
        assertTrue(c.midBlockSelfAttention());
        assertEquals(3, c.midBlockTransformerLayers());
        String json = c.toJson();
        for (String key : new String[] {"attention_kind", "shared_kv_projection", "ff_activation", "ff_mult",
                "separable_conv_levels", "self_attention_levels", "mid_block_transformer_layers"}) {
            assertTrue(json.contains("\"" + key + "\""), key + " missing from " + json);
        }
        assertEquals(c, UNetConfig.parse("round trip", json));
    }

    @Test
    void stateDictKeysFollowTheOptions() {
        Map<String, Parameter> params = UNet2DConditionModel.fromConfig(UNetConfig.parse("md", MD_CONFIG))
                .namedParameters();
        Set<String> keys = params.keySet();
        assertTrue(keys.stream().noneMatch(k -> k.contains(".to_k.") || k.contains(".to_v.")), "to_k/to_v present");
        assertTrue(keys.contains("mid_block.attentions.0.transformer_blocks.0.attn1.to_kv.weight"));
        assertTrue(keys.contains("down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_kv.weight"));
        // level 1 has no self-attention; level 2 and the mid block do
        assertTrue(keys.stream().noneMatch(k -> k.startsWith("down_blocks.1.") && k.contains("attn1")));
        assertTrue(keys.stream().noneMatch(k -> k.startsWith("up_blocks.1.") && k.contains("attn1")));
        assertTrue(keys.stream().noneMatch(k -> k.startsWith("down_blocks.1.") && k.contains(".norm1.") && k.contains("transformer")));
        assertTrue(keys.contains("down_blocks.2.attentions.0.transformer_blocks.1.attn1.to_q.weight"));
        assertTrue(keys.contains("mid_block.attentions.0.transformer_blocks.2.attn1.to_q.weight"));
        // separable convs at levels 1 and 2 (and the mid block), plain at level 0
        assertTrue(keys.contains("down_blocks.0.resnets.0.conv1.weight"));
        assertTrue(keys.contains("up_blocks.2.resnets.1.conv2.weight"));
        assertTrue(keys.contains("down_blocks.1.resnets.0.conv1.depthwise.weight"));
        assertTrue(keys.contains("down_blocks.1.resnets.0.conv1.pointwise.bias"));
        assertTrue(keys.contains("up_blocks.0.resnets.0.conv2.pointwise.weight"));
        assertTrue(keys.contains("mid_block.resnets.1.conv1.depthwise.weight"));
        assertFalse(keys.contains("down_blocks.1.resnets.0.conv1.weight"));
        assertEquals(new Shape(16, 1, 3, 3), params.get("down_blocks.1.resnets.0.conv1.depthwise.weight").shape());
        assertEquals(new Shape(32, 16, 1, 1), params.get("down_blocks.1.resnets.0.conv1.pointwise.weight").shape());
        assertEquals(new Shape(32, 1, 3, 3), params.get("down_blocks.1.resnets.0.conv2.depthwise.weight").shape());
        // SwiGLU with ff_mult 3: projection 32 -> 2 * 96, output 96 -> 32
        assertEquals(new Shape(192, 32),
                params.get("mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight").shape());
        assertEquals(new Shape(32, 96), params.get("mid_block.attentions.0.transformer_blocks.0.ff.net.2.weight").shape());
    }

    @Test
    void savesLoadsRunsAndBackpropagates(@TempDir Path tmp) throws Exception {
        UNetConfig config = UNetConfig.parse("md", MD_CONFIG);
        Random rng = new Random(5);
        try (NDManager weights = NDManager.newBaseManager(); NDManager scope = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(config);
            StateDicts.initRandom(unet, weights, 11);
            NDArray sample = randn(scope, rng, 2, 4, 16, 16);
            NDArray t = scope.create(new float[] {999f, 10.5f});
            NDArray ctx = randn(scope, rng, 2, 77, 24);
            NDArray out = unet.forward(sample, t, ctx);
            assertEquals(sample.getShape(), out.getShape());
            assertTrue(out.isInfinite().logicalOr(out.isNaN()).none().getBoolean(), "non-finite output");

            Files.writeString(tmp.resolve(UNet2DConditionModel.CONFIG_FILE), config.toJson());
            StateDicts.save(unet, tmp.resolve(UNet2DConditionModel.WEIGHTS_FILE), Map.of());
            UNet2DConditionModel reloaded = UNet2DConditionModel.load(tmp, weights);
            Golden.assertClose(out, reloaded.forward(sample, t, ctx), 0, "reloaded MobileDiffusion UNet");

            Map<String, Parameter> params = unet.namedParameters();
            String[] probed = {"mid_block.attentions.0.transformer_blocks.0.attn1.to_kv.weight",
                "down_blocks.1.resnets.0.conv1.depthwise.weight",
                "down_blocks.1.attentions.0.transformer_blocks.0.ff.net.0.proj.weight"};
            for (String k : probed) {
                params.get(k).get().setRequiresGradient(true);
            }
            try (NDManager step = scope.newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray x = sample.duplicate();
                x.attach(step);
                collector.backward(unet.forward(x, t, ctx).square().mean());
                for (String k : probed) {
                    NDArray g = params.get(k).get().getGradient();
                    float sum = g.abs().sum().getFloat();
                    assertTrue(sum > 0 && Float.isFinite(sum), k + " has no finite gradient: " + sum);
                }
            }
            for (String k : probed) {
                params.get(k).get().setRequiresGradient(false);
            }
        }
    }

    @Test
    void singleResnetMidBlockIsTheFirstResnetThenTheTransformerStack() {
        UNetConfig two = UNetConfig.parse("md", MD_CONFIG);
        UNetConfig one = UNetConfig.parse("md1", MD_CONFIG.replace("\"mid_block_transformer_layers\": 3",
                "\"mid_block_transformer_layers\": 3, \"mid_block_resnets\": 1"));
        assertEquals(1, one.midBlockResnets());
        assertEquals(2, two.midBlockResnets());
        assertTrue(one.toJson().contains("\"mid_block_resnets\" : 1"), one.toJson());
        assertFalse(two.toJson().contains("mid_block_resnets"), "the diffusers default is not written");
        assertEquals(one, UNetConfig.parse("round trip", one.toJson()));

        Random rng = new Random(9);
        try (NDManager weights = NDManager.newBaseManager(); NDManager scope = NDManager.newBaseManager()) {
            UNet2DConditionModel full = UNet2DConditionModel.fromConfig(two);
            UNet2DConditionModel single = UNet2DConditionModel.fromConfig(one);
            StateDicts.initRandom(full, weights, 3);
            Map<String, Parameter> fullParams = full.namedParameters();
            Map<String, Parameter> singleParams = single.namedParameters();
            long dropped = fullParams.entrySet().stream().filter(e -> e.getKey().startsWith("mid_block.resnets.1."))
                    .mapToLong(e -> e.getValue().shape().size()).sum();
            assertTrue(dropped > 0);
            assertEquals(full.parameterCount() - dropped, single.parameterCount());
            assertTrue(singleParams.keySet().stream().noneMatch(k -> k.startsWith("mid_block.resnets.1.")));
            singleParams.forEach((k, p) -> p.set(fullParams.get(k).get()));

            NDArray sample = randn(scope, rng, 1, 4, 16, 16);
            NDArray t = scope.create(new float[] {321f});
            NDArray ctx = randn(scope, rng, 1, 77, 24);
            Map<String, NDArray> fullDebug = new java.util.HashMap<>();
            Map<String, NDArray> singleDebug = new java.util.HashMap<>();
            full.forward(sample, t, ctx, fullDebug);
            single.forward(sample, t, ctx, singleDebug);
            Golden.assertClose(fullDebug.get("mid_block.attentions.0"), singleDebug.get("mid_block"), 0,
                    "mid block without resnets.1");
        }
    }

    private static NDArray randn(NDManager m, Random rng, long... shape) {
        Shape s = new Shape(shape);
        float[] data = new float[Math.toIntExact(s.size())];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) rng.nextGaussian();
        }
        return m.create(data, s);
    }
}
