package dev.mdx.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.nn.Module;
import dev.mdx.nn.Parameter;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.Golden;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The LoRA golden ({@code DIR/lora}): the two files of {@code results} applied to the golden pipeline's UNet and text
 * encoder, compared with what diffusers 0.25.1 computed with its own loader: the module table it built (layer, rank,
 * factor), the UNet's and the text encoder's outputs at every scale of {@code io.safetensors} and after
 * {@code fuse_lora}, and the fused weights it stored. mdx always fuses, so the unfused references are compared with
 * mdx's fused weights at the same scale. After each case the weights are restored and checked bit for bit.
 */
class LoraGoldenParityTest {
    private static NDManager weights;
    private static UNet2DConditionModel unet;
    private static ClipTextModel textEncoder;
    private static Map<LoraPart, LoraTargets> targets;
    private static Map<Parameter, float[]> before;
    private static int savedThreads;

    private static Path loraDir() {
        return Golden.root().resolve("lora");
    }

    private static JsonNode golden() {
        return JsonConfig.read(loraDir().resolve("lora_golden.json")).root();
    }

    @BeforeAll
    static void load() {
        savedThreads = EngineThreads.current();
        EngineThreads.set(1);
        weights = NDManager.newBaseManager();
        unet = UNet2DConditionModel.load(Golden.pipelineComponent("unet"), weights);
        textEncoder = ClipTextModel.load(Golden.pipelineComponent("text_encoder"), weights);
        targets = LoraTargets.of(unet, textEncoder);
        before = snapshot();
    }

    @AfterAll
    static void close() {
        weights.close();
        EngineThreads.set(savedThreads);
    }

    @TestFactory
    Stream<DynamicTest> matchesDiffusers() {
        JsonNode results = golden().get("results");
        List<DynamicTest> tests = new ArrayList<>();
        for (String format : List.of("kohya", "diffusers")) {
            assertTrue(results.has(format), "lora_golden.json has no results." + format);
            tests.add(DynamicTest.dynamicTest(format, () -> checkFormat(format, results.get(format))));
        }
        return tests.stream();
    }

    private static void checkFormat(String format, JsonNode result) {
        Path file = loraDir().resolve(result.get("weight_name").asText());
        BoundLora bound = BoundLora.bind(LoraFile.read(file), targets);
        System.out.println(format + ": " + bound.summary());
        assertTrue(bound.complete(), () -> bound.describeProblems(""));
        checkModuleTable(format, bound, result.get("modules"));

        JsonNode inputs = golden().get("inputs");
        Path ioFile = loraDir().resolve("io.safetensors");
        try (NDManager scope = weights.newSubManager(); SafeTensorsFile io = SafeTensorsFile.open(ioFile)) {
            Set<String> compared = new HashSet<>();
            checkOutputs(io, scope, "base", compared);
            List<Double> scales = new ArrayList<>();
            inputs.get("scales").forEach(s -> scales.add(s.asDouble()));
            for (String name : io.tensors().keySet()) {
                // the unfused references at a scale the inputs do not list (0.7, beside the fused ones)
                String prefix = format + ".unet_eps.scale_";
                if (name.startsWith(prefix)) {
                    double s = Double.parseDouble(name.substring(prefix.length()));
                    if (!scales.contains(s)) {
                        scales.add(s);
                    }
                }
            }
            for (double scale : scales) {
                String suffix = ".scale_" + Float.toString((float) scale);
                withFused(bound, scale, () -> {
                    checkTensor(io, scope, format + ".unet_eps" + suffix, unetOutput(io, scope), compared);
                    if (io.contains(format + ".te_last_hidden_state" + suffix)) {
                        checkTensor(io, scope, format + ".te_last_hidden_state" + suffix, textOutput(io, scope),
                                compared);
                    }
                });
            }
            double fuseScale = inputs.get("fuse_scale").asDouble();
            String fusedPrefix = format + ".fused_" + Float.toString((float) fuseScale) + ".";
            withFused(bound, fuseScale, () -> {
                checkOutputs(io, scope, fusedPrefix.substring(0, fusedPrefix.length() - 1), compared);
                for (String name : io.tensors().keySet()) {
                    if (name.startsWith(fusedPrefix + "weight.")) {
                        checkFusedWeight(io, scope, name, name.substring((fusedPrefix + "weight.").length()), compared);
                    }
                }
            });
            checkOutputs(io, scope, "base", compared);
            List<String> unchecked = io.tensors().keySet().stream()
                    .filter(n -> n.startsWith(format + ".") && !compared.contains(n)).toList();
            assertTrue(unchecked.isEmpty(), "golden tensors of " + format + " not compared: " + unchecked);
        }
    }

    /** Every module diffusers built, with its rank and factor, is a layer mdx binds, and nothing else is. */
    private static void checkModuleTable(String format, BoundLora bound, JsonNode modules) {
        Map<String, BoundLora.Delta> byModule = new LinkedHashMap<>();
        for (BoundLora.Delta d : bound.deltas()) {
            String module = d.weightKey().substring(0, d.weightKey().length() - ".weight".length());
            byModule.put((d.part() == LoraPart.UNET ? "unet:" : "text_encoder:") + module, d);
        }
        assertEquals(modules.size(), byModule.size(), format + ": module count");
        for (JsonNode m : modules) {
            String key = m.get("part").asText() + ":" + m.get("module").asText();
            BoundLora.Delta d = byModule.get(key);
            assertTrue(d != null, format + ": diffusers built " + key + ", mdx did not bind it");
            assertEquals(m.get("rank").asInt(), d.rank(), key + " rank");
            double factor = d.alpha() == null ? 1.0 : d.alpha() / (double) d.rank();
            assertEquals(m.get("factor").asDouble(), factor, 1e-12, key + " factor");
            JsonNode alpha = m.get("network_alpha");
            assertEquals(alpha == null || alpha.isNull(), d.alpha() == null, key + " has an alpha");
        }
    }

    private static void withFused(BoundLora bound, double scale, Runnable check) {
        List<LoraSet.Entry> entries = List.of(new LoraSet.Entry(bound, scale, "test"));
        FusedWeights u = FusedWeights.fuse(unet, LoraPart.UNET, entries, weights);
        FusedWeights t = FusedWeights.fuse(textEncoder, LoraPart.TEXT_ENCODER, entries, weights);
        try {
            check.run();
        } finally {
            u.restore();
            t.restore();
        }
        assertRestored();
    }

    /** {@code <prefix>.unet_eps} and {@code <prefix>.te_last_hidden_state}, where the golden has them. */
    private static void checkOutputs(SafeTensorsFile io, NDManager scope, String prefix, Set<String> compared) {
        checkTensor(io, scope, prefix + ".unet_eps", unetOutput(io, scope), compared);
        checkTensor(io, scope, prefix + ".te_last_hidden_state", textOutput(io, scope), compared);
    }

    private static NDArray unetOutput(SafeTensorsFile io, NDManager scope) {
        return unet.forward(io.load("inputs.unet_sample", scope), io.load("inputs.unet_timestep", scope),
                io.load("inputs.unet_encoder_hidden_states", scope));
    }

    private static NDArray textOutput(SafeTensorsFile io, NDManager scope) {
        return textEncoder.forward(io.load("inputs.te_input_ids", scope)).lastHiddenState();
    }

    private static void checkTensor(SafeTensorsFile io, NDManager scope, String name, NDArray actual,
            Set<String> compared) {
        assertTrue(io.contains(name), "golden has no " + name);
        Golden.assertClose(io.load(name, scope), actual, tolerance(name), name);
        compared.add(name);
    }

    /**
     * The fused weight diffusers stored, {@code W + s * ((up * alpha) / rank) @ down} in float32: the golden's
     * numpy re-derivation reproduced it bit for bit, so mdx's (another float32 matmul) must be within float32
     * rounding of the weight's magnitude.
     */
    private static void checkFusedWeight(SafeTensorsFile io, NDManager scope, String name, String key,
            Set<String> compared) {
        LoraPart part = key.startsWith("unet.") ? LoraPart.UNET : LoraPart.TEXT_ENCODER;
        Module model = part == LoraPart.UNET ? unet : textEncoder;
        Parameter p = model.namedParameters().get(key.substring(part.diffusersPrefix().length()));
        assertTrue(p != null, name + " names no parameter of the model");
        NDArray expected = io.load(name, scope);
        double ulps = 4 * Math.ulp(expected.abs().max().getFloat());
        double err = Golden.assertClose(expected, p.get(), ulps, name);
        System.out.printf("%s: %s%n", name, err == 0 ? "bit-identical" : "within " + err);
        compared.add(name);
    }

    /**
     * The suggested tolerance of {@code lora_golden.json} for the tensor, or for a tensor of the same quantity (the
     * UNet's eps, the text encoder's hidden state) where the golden lists none for this scale or fusion: the
     * largest one listed for that quantity.
     */
    private static double tolerance(String name) {
        double same = 0;
        String quantity = name.contains("unet_eps") ? "unet_eps" : "te_last_hidden_state";
        for (JsonNode row : golden().get("tolerances")) {
            String tensor = row.get("tensor").asText();
            if (tensor.equals(name)) {
                return row.get("suggested_atol").asDouble();
            }
            if (tensor.contains(quantity)) {
                same = Math.max(same, row.get("suggested_atol").asDouble());
            }
        }
        assertTrue(same > 0, "lora_golden.json lists no tolerance for " + quantity);
        return same;
    }

    private static Map<Parameter, float[]> snapshot() {
        Map<Parameter, float[]> out = new LinkedHashMap<>();
        for (Module m : List.of(unet, textEncoder)) {
            m.namedParameters().values().forEach(p -> out.put(p, p.get().toFloatArray()));
        }
        return out;
    }

    private static final Map<Parameter, NDArray> ORIGINAL_ARRAYS = new LinkedHashMap<>();

    /** Every weight holds its original array again, with its original bits. */
    private static void assertRestored() {
        if (ORIGINAL_ARRAYS.isEmpty()) {
            before.keySet().forEach(p -> ORIGINAL_ARRAYS.put(p, p.get()));
        }
        before.forEach((p, values) -> {
            assertSame(ORIGINAL_ARRAYS.get(p), p.get(), "restored weights are the original arrays");
            assertTrue(Arrays.equals(values, p.get().toFloatArray()), "restored weights have their original bits");
        });
        assertFalse(before.isEmpty());
    }
}
