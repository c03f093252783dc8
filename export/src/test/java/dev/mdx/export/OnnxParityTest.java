package dev.mdx.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.BundledModels;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.StateDicts;
import dev.mdx.models.ArchitecturePresets;
import dev.mdx.nn.GuidanceEmbedding;
import dev.mdx.testing.Golden;
import dev.mdx.testing.TestModels;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import dev.mdx.vae.VaeDecoderConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Every exported graph, run by ONNX Runtime on the inputs mdx gets, matches mdx's output on the whole tensor. The
 * tolerances are relative to the output's largest magnitude (see {@link Parity#assertClose}); docs/EXPORT.md lists
 * the measured errors.
 */
class OnnxParityTest {
    /** fp32 graphs: the same math in another library's kernels (summation order, erf, sin). */
    static final double FP32_TOLERANCE = 1e-5;
    /** fp16-stored weights of a model trained or initialised in fp32: the weights' rounding on top. */
    static final double FP16_TOLERANCE = 5e-3;
    private static final float[] TIMESTEPS = {981f, 37.5f};
    private static final double[] GUIDANCE = {1.0, 7.5};

    @Test
    void goldenUNetsMatch() {
        List<Path> dirs = Golden.componentDirs(UNetConfig.CLASS_NAME);
        assertFalse(dirs.isEmpty(), "no golden UNet folders");
        for (Path dir : dirs) {
            try (NDManager m = NDManager.newBaseManager()) {
                UNet2DConditionModel unet = UNet2DConditionModel.load(dir, m);
                assertUNet("golden " + Golden.root().relativize(dir), unet, m, FP32_TOLERANCE, FP16_TOLERANCE);
            }
        }
    }

    @Test
    void goldenTextEncoderMatches() {
        try (NDManager m = NDManager.newBaseManager()) {
            ClipTextModel text = ClipTextModel.load(Golden.pipelineComponent("text_encoder"), m);
            assertTextEncoder("golden text_encoder", text, m, FP32_TOLERANCE, FP16_TOLERANCE);
        }
    }

    @Test
    void goldenVaeDecoderMatches() {
        try (NDManager m = NDManager.newBaseManager()) {
            AutoencoderKL vae = AutoencoderKL.load(Golden.pipelineComponent("vae"), m);
            assertVaeDecoder("golden vae", vae, m, 8, FP32_TOLERANCE, FP16_TOLERANCE);
        }
    }

    /** A sub-pixel light decoder (DepthToSpace in CRD mode is torch's pixel_shuffle) with random weights. */
    @Test
    void pixelShuffleVaeDecoderMatches() {
        // three levels: two sub-pixel upsamplers
        VaeConfig full = new VaeConfig(3, 3, 4, List.of(8, 16, 16), 1, 8, 0.5, java.util.OptionalDouble.empty(), 32,
                false, true, true, null);
        VaeConfig config = full.withDecoder(full.decoder().withBlockOutChannels(List.of(8, 16, 24))
                .withMidBlockAttention(false).withUpsampling(VaeDecoderConfig.Upsampling.PIXEL_SHUFFLE));
        AutoencoderKL vae = new AutoencoderKL(config);
        try (NDManager m = NDManager.newBaseManager()) {
            StateDicts.initRandom(vae, m, 9);
            assertVaeDecoder("random pixel-shuffle decoder", vae, m, 8, FP32_TOLERANCE, FP16_TOLERANCE);
        }
    }

    /** ReLU attention, shared K/V, SwiGLU, separable convs, cross-attention-only levels, a deep mid stack. */
    @Test
    void microMobileDiffusionUNetMatches() {
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = random(UNetConfig.parse("micro", TestModels.MICRO_MOBILE_DIFFUSION_UNET), m, 5);
            assertUNet("micro mobilediffusion", unet, m, FP32_TOLERANCE, FP16_TOLERANCE);
        }
    }

    /**
     * The mobilediffusion-tiny preset with random weights and the rest of the options on: ReLU attention, a
     * guidance-scale input (time_cond_proj_dim), linear projections, center_input_sample, an output scale and
     * diffusers' right/bottom-padded downsampler.
     */
    @Test
    void randomTinyPresetWithEveryOptionMatches() {
        ObjectNode json = (ObjectNode) ArchitecturePresets.json("mobilediffusion-tiny", "unet").root().deepCopy();
        json.put("attention_kind", "relu").put("time_cond_proj_dim", 32).put("use_linear_projection", true)
                .put("center_input_sample", true).put("resnet_out_scale_factor", 1.5).put("downsample_padding", 0)
                .put("mid_block_scale_factor", 2.0);
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = random(UNetConfig.parse("tiny+options", json.toString()), m, 7);
            assertUNet("random mobilediffusion-tiny, every option", unet, m, FP32_TOLERANCE, FP16_TOLERANCE);
            // 10 -> 5 -> 2 on the way down (the padding-0 downsampler), so the up path resizes 2 -> 5, not 2x
            assertUNet("random mobilediffusion-tiny, every option, 10x10 latents", unet, m, 10, FP32_TOLERANCE,
                    FP16_TOLERANCE);
        }
    }

    /** The shipped models (fp16 weights, so the fp16 graph holds the same numbers: same tolerance as fp32). */
    @Test
    void bundledModelsMatch() {
        for (String name : List.of("emoji", "fashion")) {
            Path model = BundledModels.modelsDir().resolve(name);
            assertTrue(Files.isDirectory(model), "bundled model missing: " + model);
            try (NDManager m = NDManager.newBaseManager()) {
                assertUNet(name + " unet", UNet2DConditionModel.load(model.resolve("unet"), m), m,
                        FP32_TOLERANCE, FP32_TOLERANCE);
                assertUNet(name + " ufogen unet", UNet2DConditionModel.load(
                        model.resolve("students/ufogen/unet"), m), m, FP32_TOLERANCE, FP32_TOLERANCE);
                assertTextEncoder(name + " text_encoder", ClipTextModel.load(model.resolve("text_encoder"), m), m,
                        FP32_TOLERANCE, FP32_TOLERANCE);
                assertVaeDecoder(name + " vae_light", AutoencoderKL.load(model.resolve("vae_light"), m), m, 16,
                        FP32_TOLERANCE, FP32_TOLERANCE);
                assertVaeDecoder(name + " vae (full decoder)", AutoencoderKL.load(model.resolve("vae"), m), m, 16,
                        FP32_TOLERANCE, FP32_TOLERANCE);
            }
        }
    }

    @Test
    void maskedReluAttentionIsRefusedByName() {
        Layers layers = new Layers(new OnnxGraph("t", OnnxPrecision.FP32));
        UnsupportedExportException e = assertThrows(UnsupportedExportException.class, () -> layers.attention("a",
                "q", "k", "v", 1, 4, dev.mdx.tensor.Ops.AttentionKind.RELU, "mask"));
        assertTrue(e.getMessage().contains("masked ReLU attention"), e.getMessage());
    }

    @Test
    void graphsPastTheProtobufLimitAndHalfOverflowsAreRefused() {
        OnnxGraph big = new OnnxGraph("unet", OnnxPrecision.FP32, 100);
        big.weight("w", new float[26], 26);
        UnsupportedExportException e = assertThrows(UnsupportedExportException.class, () -> big.model("t", "t"));
        assertTrue(e.getMessage().contains("ONNX external data") && e.getMessage().contains("--precision fp16"),
                e.getMessage());
        OnnxGraph half = new OnnxGraph("unet", OnnxPrecision.FP16);
        UnsupportedExportException h = assertThrows(UnsupportedExportException.class,
                () -> half.weight("conv.weight", new float[] {1f, 70000f}, 2));
        assertTrue(h.getMessage().contains("conv.weight"), h.getMessage());
    }

    private static UNet2DConditionModel random(UNetConfig config, NDManager m, long seed) {
        UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(config);
        StateDicts.initRandom(unet, m, seed);
        return unet;
    }

    static void assertUNet(String what, UNet2DConditionModel unet, NDManager m, double fp32, double fp16) {
        UNetConfig c = unet.config();
        assertUNet(what, unet, m, c.sampleSize() == null ? 8 : c.sampleSize(), fp32, fp16);
    }

    static void assertUNet(String what, UNet2DConditionModel unet, NDManager m, int size, double fp32, double fp16) {
        UNetConfig c = unet.config();
        Parity.Tensor sample = Parity.normal(1, 1, 2, c.inChannels(), size, size);
        Parity.Tensor context = Parity.normal(2, 1, 2, 77, c.crossAttentionDim().get(0));
        Map<String, OrtGraph.Input> inputs = new LinkedHashMap<>();
        inputs.put(UNetExporter.SAMPLE, sample.ort());
        inputs.put(UNetExporter.TIMESTEP, OrtGraph.floats(TIMESTEPS, 2));
        inputs.put(UNetExporter.CONTEXT, context.ort());
        NDArray cond = null;
        if (c.hasTimeCondProj()) {
            inputs.put(UNetExporter.GUIDANCE, OrtGraph.floats(new float[] {(float) GUIDANCE[0], (float) GUIDANCE[1]}, 2));
            cond = new GuidanceEmbedding(c.timeCondProjDim()).ofScales(GUIDANCE, m);
        }
        NDArray expected = unet.forward(sample.in(m), m.create(TIMESTEPS), context.in(m), cond);
        for (OnnxPrecision p : OnnxPrecision.values()) {
            try (OrtGraph graph = OrtGraph.load(OnnxGraphs.unet(unet, p), "unet", 1)) {
                Parity.assertClose(what + " " + p.cliName(), expected, graph.run(inputs),
                        p == OnnxPrecision.FP32 ? fp32 : fp16);
            }
        }
    }

    static void assertTextEncoder(String what, ClipTextModel text, NDManager m, double fp32, double fp16) {
        int length = text.config().maxPositionEmbeddings();
        long[] ids = new long[2 * length];
        Random r = new Random(3);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(text.config().vocabSize());
        }
        NDArray expected = text.forward(m.create(ids, new ai.djl.ndarray.types.Shape(2, length))).lastHiddenState();
        for (OnnxPrecision p : OnnxPrecision.values()) {
            try (OrtGraph graph = OrtGraph.load(OnnxGraphs.textEncoder(text, p), "text_encoder", 1)) {
                Parity.assertClose(what + " " + p.cliName(), expected,
                        graph.run(Map.of(TextEncoderExporter.INPUT_IDS, OrtGraph.longs(ids, 2, length))),
                        p == OnnxPrecision.FP32 ? fp32 : fp16);
            }
        }
    }

    static void assertVaeDecoder(String what, AutoencoderKL vae, NDManager m, int size, double fp32, double fp16) {
        Parity.Tensor latent = Parity.normal(4, 1, 2, vae.config().latentChannels(), size, size);
        NDArray expected = vae.decode(latent.in(m));
        for (OnnxPrecision p : OnnxPrecision.values()) {
            try (OrtGraph graph = OrtGraph.load(OnnxGraphs.vaeDecoder(vae, p), "vae_decoder", 1)) {
                Parity.assertClose(what + " " + p.cliName(), expected,
                        graph.run(Map.of(VaeDecoderExporter.LATENT, latent.ort())),
                        p == OnnxPrecision.FP32 ? fp32 : fp16);
            }
        }
        assertEquals(3, expected.getShape().get(1));
    }
}
