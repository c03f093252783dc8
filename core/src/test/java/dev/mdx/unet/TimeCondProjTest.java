package dev.mdx.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Parameter;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * diffusers' {@code time_cond_proj_dim}: {@code time_embedding.cond_proj} adds a projection of the timestep condition
 * (a guidance embedding) to the time projection. With zero weights the UNet is exactly the plain one; other weights
 * change the output, and the gradient reaches them (checked against finite differences in float64).
 */
class TimeCondProjTest {
    /**
     * Channel counts are multiples of 16: libtorch's fp32 3x3 conv at batch > 1 reads uninitialised memory when the
     * input has more than 16 channels and not a multiple of 16 (here 16 + 8 in an up block), which turns into NaN
     * when that memory held NaN bit patterns (e.g. after float64 work).
     */
    private static final String PLAIN = """
            {"in_channels": 4, "out_channels": 4, "block_out_channels": [16, 32],
             "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
             "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "layers_per_block": 1, "norm_num_groups": 8,
             "cross_attention_dim": 12, "attention_head_dim": 2}""";
    private static final int COND = 10;
    private static final String KEY = "time_embedding.cond_proj.weight";

    private static UNetConfig conditioned() {
        return UNetConfig.parse("cond", PLAIN.replace("\"in_channels\"", "\"time_cond_proj_dim\": " + COND
                + ", \"in_channels\""));
    }

    /** A UNet of {@code config} with the plain UNet's weights; cond_proj (if any) gets {@code condWeight}. */
    private static UNet2DConditionModel withWeightsOf(UNet2DConditionModel plain, UNetConfig config,
            NDArray condWeight) {
        UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(config);
        unet.namedParameters().forEach((k, p) -> p.set(k.equals(KEY) ? condWeight
                : plain.namedParameters().get(k).get()));
        return unet;
    }

    private record Inputs(NDArray sample, NDArray t, NDArray context, NDArray cond) {}

    private static Inputs inputs(NDManager m, int batch) {
        m.getEngine().setRandomSeed(5);
        return new Inputs(m.randomNormal(new Shape(batch, 4, 8, 8)), m.create(new float[] {640f, 80f}),
                m.randomNormal(new Shape(batch, 3, 12)), m.randomNormal(new Shape(batch, COND)));
    }

    @Test
    void configRoundTripsAndTheKeyHasDiffusersShape() {
        UNetConfig c = conditioned();
        assertEquals(COND, c.timeCondProjDim());
        assertTrue(c.toJson().contains("\"time_cond_proj_dim\" : " + COND), c.toJson());
        assertEquals(c, UNetConfig.parse("round trip", c.toJson()));
        UNetConfig plain = UNetConfig.parse("plain", PLAIN);
        assertNull(plain.timeCondProjDim());
        assertEquals(plain, c.withTimeCondProjDim(null));
        assertEquals(c, plain.withTimeCondProjDim(COND));
        Map<String, Parameter> params = UNet2DConditionModel.fromConfig(c).namedParameters();
        assertEquals(new Shape(16, COND), params.get(KEY).shape(),
                "Linear(time_cond_proj_dim -> block_out_channels[0])");
        assertTrue(!params.containsKey("time_embedding.cond_proj.bias"), "no bias, as diffusers");
        assertEquals(UNet2DConditionModel.fromConfig(plain).parameterCount() + 16L * COND,
                UNet2DConditionModel.fromConfig(c).parameterCount());
        for (String bad : List.of("0", "-3", "2.5", "\"x\"")) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> UNetConfig.parse("cfg.json",
                    PLAIN.replace("\"in_channels\"", "\"time_cond_proj_dim\": " + bad + ", \"in_channels\"")));
            assertTrue(e.getMessage().contains("'time_cond_proj_dim'"), e.getMessage());
        }
    }

    @Test
    void zeroCondProjGivesExactlyThePlainUNetAndOtherWeightsChangeIt() {
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel plain = UNet2DConditionModel.fromConfig(UNetConfig.parse("plain", PLAIN));
            StateDicts.initRandom(plain, m, 3);
            Inputs in = inputs(m, 2);
            float[] expected = plain.forward(in.sample(), in.t(), in.context()).toFloatArray();

            UNet2DConditionModel zero = withWeightsOf(plain, conditioned(), m.zeros(new Shape(16, COND)));
            assertArrayEquals(expected, zero.forward(in.sample(), in.t(), in.context(), in.cond()).toFloatArray(), 0f);
            float[] encoded = plain.encode(in.sample(), in.t(), in.context()).toFloatArray();
            assertArrayEquals(encoded, zero.encode(in.sample(), in.t(), in.context(), in.cond()).toFloatArray(), 0f,
                    "the encoder half (the UFOGen discriminator's) too");

            UNet2DConditionModel random = withWeightsOf(plain, conditioned(),
                    m.randomNormal(0f, 0.3f, new Shape(16, COND), DataType.FLOAT32));
            float[] changed = random.forward(in.sample(), in.t(), in.context(), in.cond()).toFloatArray();
            double diff = 0;
            for (int i = 0; i < changed.length; i++) {
                diff = Math.max(diff, Math.abs(changed[i] - expected[i]));
            }
            System.out.printf("cond_proj N(0, 0.3): max |output change| %.4f%n", diff);
            assertTrue(diff > 1e-3, "a non-zero cond_proj must change the output: " + diff);

            // one (1, D) row serves the whole batch
            NDArray row = in.cond().get("0:1");
            assertArrayEquals(random.forward(in.sample(), in.t(), in.context(), row.repeat(0, 2)).toFloatArray(),
                    random.forward(in.sample(), in.t(), in.context(), row).toFloatArray(), 0f);
        }
    }

    @Test
    void aMissingOrUnexpectedConditionIsAClearError() {
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel plain = UNet2DConditionModel.fromConfig(UNetConfig.parse("plain", PLAIN));
            StateDicts.initRandom(plain, m, 3);
            UNet2DConditionModel cond = UNet2DConditionModel.fromConfig(conditioned());
            StateDicts.initRandom(cond, m, 3);
            Inputs in = inputs(m, 2);
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                    () -> cond.forward(in.sample(), in.t(), in.context()));
            assertTrue(missing.getMessage().contains("time_cond_proj_dim " + COND), missing.getMessage());
            assertThrows(IllegalArgumentException.class, () -> cond.encode(in.sample(), in.t(), in.context()));
            IllegalArgumentException unexpected = assertThrows(IllegalArgumentException.class,
                    () -> plain.forward(in.sample(), in.t(), in.context(), in.cond()));
            assertTrue(unexpected.getMessage().contains("no time_cond_proj_dim"), unexpected.getMessage());
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> cond.forward(in.sample(), in.t(), in.context(), m.zeros(new Shape(2, COND + 1))));
            assertTrue(shape.getMessage().contains("(2, " + COND + ")"), shape.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> cond.forward(in.sample(), in.t(), in.context(), m.zeros(new Shape(3, COND))));
        }
    }

    /**
     * L = sum(unet(...) * R) in float64; the backprop gradient of cond_proj at ZERO weights (where a distilled
     * student starts) must be non-zero and match a central difference along a random direction.
     */
    @Test
    void gradientsReachCondProjFromZero() {
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(conditioned());
            StateDicts.initRandom(unet, m, 3);
            Parameter condProj = unet.namedParameters().get(KEY);
            condProj.set(m.zeros(condProj.shape()));
            unet.namedParameters().values().forEach(p -> p.set(p.get().toType(DataType.FLOAT64, false)));
            Inputs in = inputs(m, 2);
            NDArray sample = in.sample().toType(DataType.FLOAT64, false);
            NDArray context = in.context().toType(DataType.FLOAT64, false);
            NDArray cond = in.cond().toType(DataType.FLOAT64, false);
            NDArray r = m.randomNormal(new Shape(2, 4, 8, 8)).toType(DataType.FLOAT64, false);

            double[] grad;
            condProj.get().setRequiresGradient(true);
            try (NDManager scope = m.newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray x = sample.duplicate();
                x.attach(scope);
                collector.backward(unet.forward(x, in.t(), context, cond).mul(r).sum());
                grad = condProj.get().getGradient().toDoubleArray();
            }
            condProj.get().setRequiresGradient(false);

            double scale = UNetGradientTest.checkParameter(KEY + " at zero", condProj, grad, unet, sample, in.t(),
                    context, cond, r, new Random(11));
            assertTrue(scale > 1e-6, "the gradient of a zero cond_proj must not vanish");
        }
    }
}
