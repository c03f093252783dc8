package dev.mdx.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Module;
import dev.mdx.tensor.FlopCounter;
import dev.mdx.testing.Golden;
import dev.mdx.text.ClipActivation;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import dev.mdx.vae.VaeDecoderConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The analytic counters against the real thing: parameters per block kind against the module tree (grouped by
 * state-dict key), and total FLOPs against {@link FlopCounter} during a real forward pass, on small configs with
 * every UNet option off, each one on alone, and all on.
 */
class AnalyticCostTest {
    private static final double FLOP_TOLERANCE = 0.02;

    /** SD-style: every MobileDiffusion option off; conv projections, padding-1 downsamplers. */
    private static final String SD_LIKE = """
            {"_class_name": "UNet2DConditionModel", "in_channels": 4, "out_channels": 4,
             "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
             "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
             "block_out_channels": [16, 32, 48], "layers_per_block": 2, "norm_num_groups": 8,
             "cross_attention_dim": 24, "attention_head_dim": [2, 4, 4]}""";

    /** One MobileDiffusion or diffusers option each, applied alone to SD_LIKE and then all together. */
    private static final Map<String, String> OPTIONS = new LinkedHashMap<>();

    static {
        OPTIONS.put("relu attention", "{\"attention_kind\": \"relu\"}");
        OPTIONS.put("shared kv", "{\"shared_kv_projection\": true}");
        OPTIONS.put("swiglu", "{\"ff_activation\": \"swiglu\"}");
        OPTIONS.put("ungated gelu", "{\"ff_activation\": \"gelu\"}");
        OPTIONS.put("ff_mult 3", "{\"ff_mult\": 3}");
        OPTIONS.put("separable", "{\"separable_conv_levels\": [false, true, true]}");
        OPTIONS.put("no self-attention", "{\"self_attention_levels\": [false, true, true]}");
        OPTIONS.put("mid stack", "{\"mid_block_transformer_layers\": 3, \"mid_block_self_attention\": false}");
        OPTIONS.put("one mid resnet", "{\"mid_block_resnets\": 1}");
        OPTIONS.put("MobileDiffusion layout", """
                {"down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
                 "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
                 "layers_per_block": [1, 1, 2], "transformer_layers_per_block": [1, 1, 2]}""");
        OPTIONS.put("linear projection", "{\"use_linear_projection\": true}");
        OPTIONS.put("only cross attention", "{\"only_cross_attention\": [true, false, false]}");
        OPTIONS.put("padding 0, time dim, kernels", "{\"downsample_padding\": 0, \"time_embedding_dim\": 40, "
                + "\"conv_in_kernel\": 1, \"conv_out_kernel\": 5}");
        OPTIONS.put("guidance input (cond_proj)", "{\"time_cond_proj_dim\": 12}");
    }

    @Test
    void unetWithEveryOptionOffEachOnAndAllOn() {
        List<String> tried = new java.util.ArrayList<>();
        checkUNet("all off", SD_LIKE, 16, 16);
        ObjectNode all = (ObjectNode) JsonConfig.parse("sd", SD_LIKE).copyRoot();
        for (Map.Entry<String, String> option : OPTIONS.entrySet()) {
            ObjectNode one = (ObjectNode) JsonConfig.parse("sd", SD_LIKE).copyRoot();
            ObjectNode delta = JsonConfig.parse(option.getKey(), option.getValue()).copyRoot();
            one.setAll(delta);
            if (!option.getKey().equals("ungated gelu")) {
                all.setAll(delta);
            }
            checkUNet(option.getKey(), one.toString(), 16, 16);
            tried.add(option.getKey());
        }
        checkUNet("all on", all.toString(), 16, 16);
        checkUNet("all on, odd latent 9x7", all.toString(), 9, 7);
        checkUNet("all off, odd latent 7x9", SD_LIKE, 7, 9);
        assertEquals(OPTIONS.size(), tried.size());
    }

    @Test
    void goldenUnetAtBatchTwo() throws Exception {
        UNetConfig config = UNetConfig.read(Golden.componentDirs("UNet2DConditionModel").get(0).resolve("config.json"));
        checkUNet("golden", config.toJson(), 2, 8, 8, 77);
    }

    private static void checkUNet(String what, String json, int h, int w) {
        checkUNet(what, json, 1, h, w, 11);
    }

    private static void checkUNet(String what, String json, int batch, int h, int w, int contextLength) {
        UNetConfig config = UNetConfig.parse(what, json);
        UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(config);
        ComponentCost cost = UNetCost.of(config, batch, h, w, contextLength);
        assertPartParams(what, unet, cost, AnalyticCostTest::unetPart);
        long counted = countedFlops(unet, scope -> unet.forward(
                scope.randomNormal(new Shape(batch, config.inChannels(), h, w)),
                scope.full(new Shape(batch), 321f),
                scope.randomNormal(new Shape(batch, contextLength, config.crossAttentionDim().get(0))),
                config.hasTimeCondProj() ? scope.randomNormal(new Shape(batch, config.timeCondProjDim())) : null));
        assertFlops(what, counted, cost.flops());
    }

    @Test
    void textEncoder() {
        ClipTextConfig config = new ClipTextConfig(99, 32, 48, 3, 4, 20, ClipActivation.QUICK_GELU, 1e-5, 0, 98, 1, 16);
        ClipTextModel model = new ClipTextModel(config);
        ComponentCost cost = TextEncoderCost.of(config, 2, 13);
        assertPartParams("text encoder", model, cost, AnalyticCostTest::textPart);
        long counted = countedFlops(model, scope -> model.forward(
                scope.randomInteger(0, 98, new Shape(2, 13), DataType.INT64)).lastHiddenState());
        assertFlops("text encoder", counted, cost.flops());
    }

    @Test
    void vaeEncoderAndFullLightAndPixelShuffleDecoders() {
        VaeConfig full = new VaeConfig(3, 3, 4, List.of(16, 32, 32), 2, 8, 0.5, OptionalDouble.empty(), 32, true,
                true, true, null);
        VaeConfig light = full.withDecoder(full.decoder().withBlockOutChannels(List.of(8, 16, 16))
                .withLayersPerBlock(1).withMidBlockAttention(false));
        VaeConfig shuffled = full.withDecoder(full.decoder().withBlockOutChannels(List.of(8, 16, 32))
                .withLayersPerBlock(0).withMidBlockAttention(false)
                .withUpsampling(VaeDecoderConfig.Upsampling.PIXEL_SHUFFLE));
        for (VaeConfig config : List.of(full, light, shuffled)) {
            AutoencoderKL vae = new AutoencoderKL(config);
            ComponentCost encoder = VaeCost.encoder(config, 2, 24, 20);
            ComponentCost decoder = VaeCost.decoder(config, "vae decoder", 2, 6, 5);
            Map<String, Long> encoderParams = new TreeMap<>();
            Map<String, Long> decoderParams = new TreeMap<>();
            vae.namedParameters().forEach((k, p) -> (isDecoderKey(k) ? decoderParams : encoderParams)
                    .merge(vaePart(k), p.shape().size(), Long::sum));
            assertEquals(encoderParams, partParams(encoder), "encoder params per part");
            assertEquals(decoderParams, partParams(decoder), "decoder params per part");
            long encoderFlops = countedFlops(vae, scope -> vae.encode(scope.randomNormal(new Shape(2, 3, 24, 20))).mean());
            assertFlops("vae encoder", encoderFlops, encoder.flops());
            long decoderFlops = countedFlops(vae, scope -> vae.decode(scope.randomNormal(new Shape(2, 4, 6, 5))));
            assertFlops("vae decoder " + config.decoder().blockOutChannels(), decoderFlops, decoder.flops());
        }
    }

    // ---- helpers ----

    private static long countedFlops(Module module, Function<NDManager, NDArray> forward) {
        try (NDManager weights = NDManager.newBaseManager()) {
            StateDicts.initRandom(module, weights, 7);
            try (NDManager scope = weights.newSubManager(); FlopCounter counter = FlopCounter.start()) {
                forward.apply(scope).toFloatArray();
                return counter.flops();
            }
        }
    }

    private static void assertFlops(String what, long counted, long analytic) {
        double rel = Math.abs(analytic - counted) / (double) counted;
        System.out.printf("%s: analytic %,d FLOPs, counted %,d, relative difference %.2e%n", what, analytic, counted,
                rel);
        assertTrue(counted > 0, what);
        assertTrue(rel <= FLOP_TOLERANCE, what + ": analytic " + analytic + " vs counted " + counted);
    }

    private static void assertPartParams(String what, Module module, ComponentCost cost,
            Function<String, String> classifier) {
        Map<String, Long> expected = new TreeMap<>();
        module.namedParameters().forEach((k, p) -> expected.merge(classifier.apply(k), p.shape().size(), Long::sum));
        assertEquals(expected, partParams(cost), what + ": parameters per part");
        assertEquals(module.parameterCount(), cost.params(), what);
    }

    private static Map<String, Long> partParams(ComponentCost cost) {
        Map<String, Long> out = new TreeMap<>();
        cost.parts().stream().filter(p -> p.params() > 0).forEach(p -> out.put(p.part(), p.params()));
        return out;
    }

    /** The block kind of a UNet state-dict key, independent of UNetCost's walk. */
    private static String unetPart(String key) {
        Predicate<String> has = key::contains;
        if (key.startsWith("conv_in.")) {
            return UNetCost.CONV_IN;
        }
        if (key.startsWith("time_embedding.")) {
            return UNetCost.TIME_EMBEDDING;
        }
        if (key.startsWith("conv_norm_out.") || key.startsWith("conv_out.")) {
            return UNetCost.CONV_OUT;
        }
        if (has.test(".resnets.")) {
            return UNetCost.RESNETS;
        }
        if (has.test(".downsamplers.")) {
            return UNetCost.DOWNSAMPLERS;
        }
        if (has.test(".upsamplers.")) {
            return UNetCost.UPSAMPLERS;
        }
        if (has.test(".attn1.") || has.test(".norm1.")) {
            return UNetCost.SELF_ATTENTION;
        }
        if (has.test(".attn2.") || has.test(".norm2.")) {
            return UNetCost.CROSS_ATTENTION;
        }
        if (has.test(".ff.") || has.test(".norm3.")) {
            return UNetCost.FEED_FORWARD;
        }
        assertTrue(has.test(".attentions."), key);
        return UNetCost.TRANSFORMER_IO;
    }

    private static String textPart(String key) {
        if (key.contains(".embeddings.")) {
            return TextEncoderCost.EMBEDDINGS;
        }
        if (key.contains(".self_attn.") || key.contains(".layer_norm1.")) {
            return TextEncoderCost.SELF_ATTENTION;
        }
        if (key.contains(".mlp.") || key.contains(".layer_norm2.")) {
            return TextEncoderCost.MLP;
        }
        assertTrue(key.contains("final_layer_norm"), key);
        return TextEncoderCost.FINAL_NORM;
    }

    private static boolean isDecoderKey(String key) {
        return key.startsWith("decoder.") || key.startsWith("post_quant_conv.");
    }

    private static String vaePart(String key) {
        String local = key.substring(key.indexOf('.') + 1);
        if (key.startsWith("quant_conv.")) {
            return VaeCost.QUANT_CONV;
        }
        if (key.startsWith("post_quant_conv.")) {
            return VaeCost.POST_QUANT_CONV;
        }
        if (local.startsWith("conv_in.")) {
            return VaeCost.CONV_IN;
        }
        if (local.startsWith("conv_norm_out.") || local.startsWith("conv_out.")) {
            return VaeCost.CONV_OUT;
        }
        if (local.contains(".resnets.")) {
            return VaeCost.RESNETS;
        }
        if (local.contains(".downsamplers.")) {
            return VaeCost.DOWNSAMPLERS;
        }
        if (local.contains(".upsamplers.")) {
            return VaeCost.UPSAMPLERS;
        }
        assertTrue(local.contains(".attentions."), key);
        return VaeCost.MID_ATTENTION;
    }
}
