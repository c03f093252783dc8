package dev.mdx.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Parameter;
import dev.mdx.testing.Golden;
import dev.mdx.testing.LoraFixtures;
import dev.mdx.testing.TestModels;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA on mdx's own MobileDiffusion layers (docs/KEYS.md): the shared key/value projection {@code to_kv}, the
 * SwiGLU feed-forward ({@code ff.net.0.proj}, {@code ff.net.2}) and both halves of a separable conv
 * ({@code conv1.depthwise}, a grouped 3x3 conv, and {@code conv1.pointwise}); fusing, adding, scale 0, restoring.
 */
class MobileDiffusionLoraTest {
    private static final String MD_CONFIG = TestModels.MICRO_MOBILE_DIFFUSION_UNET;
    private static final Predicate<String> MD_LAYERS = p -> p.endsWith(".to_kv") || p.endsWith(".to_q")
            || p.endsWith("ff.net.0.proj") || p.endsWith("ff.net.2") || p.endsWith(".depthwise")
            || p.endsWith(".pointwise");
    private static final String DEPTHWISE = "mid_block.resnets.0.conv1.depthwise.weight";

    private static NDManager manager;
    private static UNet2DConditionModel unet;
    private static Map<LoraPart, LoraTargets> targets;

    @TempDir
    Path tmp;

    @BeforeAll
    static void build() {
        manager = NDManager.newBaseManager();
        unet = UNet2DConditionModel.fromConfig(UNetConfig.parse("md", MD_CONFIG));
        StateDicts.initRandom(unet, manager, 5);
        targets = Map.of(LoraPart.UNET, LoraTargets.of(LoraPart.UNET, unet));
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private BoundLora lora(String name, long seed) {
        Path file = LoraFixtures.write(tmp.resolve(name),
                LoraFixtures.randomLayers(LoraPart.UNET, unet, MD_LAYERS, 2, 0.2f, seed, manager));
        return BoundLora.bind(LoraFile.read(file), targets);
    }

    private static FusedWeights fuse(double scaleA, BoundLora a, double scaleB, BoundLora b) {
        return FusedWeights.fuse(unet, LoraPart.UNET, b == null ? List.of(new LoraSet.Entry(a, scaleA, "a"))
                : List.of(new LoraSet.Entry(a, scaleA, "a"), new LoraSet.Entry(b, scaleB, "b")), manager);
    }

    private static float[] weight(String key) {
        return unet.namedParameters().get(key).get().toFloatArray();
    }

    private static NDArray forward(NDManager scope) {
        Random rng = new Random(3);
        float[] x = new float[4 * 8 * 8];
        float[] c = new float[5 * 12];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        for (int i = 0; i < c.length; i++) {
            c[i] = (float) rng.nextGaussian();
        }
        return unet.forward(scope.create(x, new Shape(1, 4, 8, 8)), scope.create(new float[] {500f}),
                scope.create(c, new Shape(1, 5, 12)));
    }

    @Test
    void everyMobileDiffusionLayerTakesALora() {
        BoundLora a = lora("a.safetensors", 1);
        assertTrue(a.complete(), () -> a.describeProblems(""));
        List<String> keys = a.deltas().stream().map(BoundLora.Delta::weightKey).toList();
        for (String key : List.of("mid_block.attentions.0.transformer_blocks.1.attn1.to_kv.weight",
                "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_kv.weight",
                "mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight",
                "up_blocks.0.attentions.1.transformer_blocks.0.ff.net.2.weight", DEPTHWISE,
                "down_blocks.1.resnets.0.conv2.pointwise.weight")) {
            assertTrue(keys.contains(key), key + " not bound: " + keys);
        }
        assertTrue(keys.stream().noneMatch(k -> k.contains("attn1") && k.startsWith("down_blocks.1")),
                "level 1 has cross-attention only");
    }

    @Test
    void fusingAddsTheScaledProductAndRestoringGivesBackTheSameBits() {
        BoundLora a = lora("a.safetensors", 1);
        Map<String, float[]> base = new LinkedHashMap<>();
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        unet.namedParameters().forEach((k, p) -> {
            base.put(k, p.get().toFloatArray());
            arrays.put(k, p.get());
        });
        try (NDManager scope = manager.newSubManager()) {
            float[] before = forward(scope).toFloatArray();
            FusedWeights fused = fuse(0.7, a, 0, null);
            assertEquals(a.deltas().size(), fused.layerCount());
            // the depthwise conv (C, 1, 3, 3): W + 0.7 * (alpha / rank) * up (C, r) @ down (r, 9)
            BoundLora.Delta d = a.deltas().stream().filter(x -> x.weightKey().equals(DEPTHWISE)).findFirst()
                    .orElseThrow();
            float[] up;
            float[] down;
            try (var st = dev.mdx.io.SafeTensorsFile.open(a.file().path())) {
                up = st.load(d.upKey(), scope).toFloatArray();
                down = st.load(d.downKey(), scope).toFloatArray();
            }
            float[] w = base.get(DEPTHWISE);
            float[] expected = new float[w.length];
            int rank = d.rank();
            int fan = w.length / (int) d.weightShape().get(0);
            for (int o = 0; o < d.weightShape().get(0); o++) {
                for (int j = 0; j < fan; j++) {
                    double sum = 0;
                    for (int r = 0; r < rank; r++) {
                        sum += up[o * rank + r] * (double) down[r * fan + j];
                    }
                    expected[o * fan + j] = (float) (w[o * fan + j] + 0.7 * d.alpha() / rank * sum);
                }
            }
            Golden.assertClose(scope.create(expected, d.weightShape()),
                    unet.namedParameters().get(DEPTHWISE).get(), 1e-6, "fused depthwise weight");
            float[] with = forward(scope).toFloatArray();
            assertTrue(maxDiff(before, with) > 1e-3, "the LoRA changes the output");

            fused.restore();
            unet.namedParameters().forEach((k, p) -> {
                assertSame(arrays.get(k), p.get(), k);
                assertArrayEquals(base.get(k), p.get().toFloatArray(), k);
            });
            assertArrayEquals(before, forward(scope).toFloatArray(), "output after restoring");
        }
    }

    @Test
    void twoLorasAddAndScaleZeroChangesNothing() {
        BoundLora a = lora("a.safetensors", 1);
        BoundLora b = lora("b.safetensors", 2);
        String key = "mid_block.attentions.0.transformer_blocks.0.attn1.to_kv.weight";
        float[] w = weight(key);
        FusedWeights fa = fuse(1, a, 0, null);
        float[] wa = weight(key);
        fa.restore();
        FusedWeights fb = fuse(0.5, b, 0, null);
        float[] wb = weight(key);
        fb.restore();
        FusedWeights both = fuse(1, a, 0.5, b);
        float[] wab = weight(key);
        both.restore();
        float[] sum = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            sum[i] = w[i] + (wa[i] - w[i]) + (wb[i] - w[i]);
        }
        try (NDManager scope = manager.newSubManager()) {
            Golden.assertClose(scope.create(sum), scope.create(wab), 1e-6, "A + B");
        }
        assertTrue(maxDiff(wa, wab) > 1e-3, "B adds something");

        Parameter p = unet.namedParameters().get(key);
        NDArray original = p.get();
        FusedWeights zero = fuse(0, a, 0, b);
        assertEquals(0, zero.layerCount(), "scale 0 fuses nothing");
        assertSame(original, p.get());
        zero.restore();
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
