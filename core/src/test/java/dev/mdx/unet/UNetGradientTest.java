package dev.mdx.unet;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Parameter;
import dev.mdx.testing.Golden;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Back-propagates L = sum(unet(sample, t, context) * R) (R fixed random) through the tiny golden UNet in float64
 * and checks parameter gradients of several layer kinds against central finite differences. Float64 makes the
 * differences precise (libtorch prints an NNPACK warning per float64 conv on CPUs without NNPACK; harmless).
 */
class UNetGradientTest {
    /** One parameter per layer kind every UNet2DConditionModel has, found by key pattern. */
    private static final List<Pattern> ALWAYS = List.of(
            Pattern.compile("conv_in\\.weight"),
            Pattern.compile("time_embedding\\.linear_1\\.weight"),
            Pattern.compile("down_blocks\\.\\d+\\.resnets\\.\\d+\\.conv1\\.(depthwise\\.)?weight"),
            Pattern.compile("conv_out\\.weight"));
    /** Layer kinds a config may leave out (no attention, no self-attention, one level): checked where present. */
    private static final List<Pattern> WHERE_PRESENT = List.of(
            Pattern.compile(".*attn1\\.to_q\\.weight"),
            Pattern.compile(".*attn2\\.to_kv?\\.weight"),
            Pattern.compile(".*ff\\.net\\.0\\.proj\\.weight"),
            Pattern.compile("mid_block\\.attentions\\.0\\.norm\\.weight"),
            Pattern.compile("up_blocks\\.\\d+\\.upsamplers\\.0\\.conv\\.bias"));
    private static final double STEP = 1e-5;
    private static final double RTOL = 1e-6;
    private static final double ATOL = 1e-8;

    @Test
    void parameterGradientsMatchFiniteDifferences() {
        Path dir = Golden.componentDirs("UNet2DConditionModel").get(0);
        Random rng = new Random(20240601);
        try (NDManager weights = NDManager.newBaseManager();
                NDManager inputs = NDManager.newBaseManager();
                SafeTensorsFile io = SafeTensorsFile.open(dir.resolve("io.safetensors"))) {
            UNet2DConditionModel unet = UNet2DConditionModel.load(dir, weights);
            Map<String, Parameter> params = unet.namedParameters();
            params.values().forEach(p -> p.set(p.get().toType(DataType.FLOAT64, false)));
            NDArray sample = io.load("sample", inputs, DataType.FLOAT64);
            NDArray timestep = io.load("timestep", inputs);
            NDArray context = io.load("encoder_hidden_states", inputs, DataType.FLOAT64);
            double[] r = new double[Math.toIntExact(sample.getShape().size()
                    / sample.getShape().get(1) * unet.config().outChannels())];
            for (int i = 0; i < r.length; i++) {
                r[i] = rng.nextGaussian();
            }
            NDArray weightsR = inputs.create(r, new ai.djl.ndarray.types.Shape(sample.getShape().get(0),
                    unet.config().outChannels(), sample.getShape().get(2), sample.getShape().get(3)));

            Map<String, Parameter> checked = new LinkedHashMap<>();
            for (Pattern pattern : ALWAYS) {
                String key = firstMatch(params, pattern);
                assertTrue(key != null, "no parameter matches " + pattern);
                checked.put(key, params.get(key));
            }
            for (Pattern pattern : WHERE_PRESENT) {
                String key = firstMatch(params, pattern);
                if (key == null) {
                    System.out.println("the golden UNet has no parameter matching " + pattern);
                } else {
                    checked.put(key, params.get(key));
                }
            }

            Map<String, double[]> analytic = new LinkedHashMap<>();
            checked.values().forEach(p -> p.get().setRequiresGradient(true));
            try (NDManager scope = inputs.newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray out = unet.forward(sample.duplicate(), timestep, context);
                collector.backward(out.mul(weightsR).sum());
                checked.forEach((k, p) -> analytic.put(k, p.get().getGradient().toDoubleArray()));
            }
            checked.values().forEach(p -> p.get().setRequiresGradient(false));

            for (Map.Entry<String, Parameter> e : checked.entrySet()) {
                checkParameter(e.getKey(), e.getValue(), analytic.get(e.getKey()), unet, sample, timestep, context,
                        null, weightsR, rng);
            }
        }
    }

    private static String firstMatch(Map<String, Parameter> params, Pattern pattern) {
        return params.keySet().stream().filter(k -> pattern.matcher(k).matches()).findFirst().orElse(null);
    }

    /**
     * Central difference of L along a random direction d over the whole tensor, against the backprop value
     * sum(grad * d): one check covers every element (as torch.autograd.gradcheck's fast mode) for two forwards.
     * L = sum(unet(sample, timestep, context, cond) * weightsR); {@code cond} is the timestep condition or null.
     *
     * @return sum |grad * d|, the scale the error is judged against
     */
    static double checkParameter(String key, Parameter p, double[] grad, UNet2DConditionModel unet,
            NDArray sample, NDArray timestep, NDArray context, NDArray cond, NDArray weightsR, Random rng) {
        assertFalse(allZero(grad), key + ": gradient is identically zero");
        NDArray original = p.get();
        double[] values = original.toDoubleArray();
        double[] direction = new double[values.length];
        double backprop = 0;
        double scale = 0;
        for (int i = 0; i < values.length; i++) {
            direction[i] = rng.nextGaussian();
            backprop += grad[i] * direction[i];
            scale += Math.abs(grad[i] * direction[i]);
        }
        double plus = lossAlong(p, values, direction, STEP, unet, sample, timestep, context, cond, weightsR);
        double minus = lossAlong(p, values, direction, -STEP, unet, sample, timestep, context, cond, weightsR);
        p.set(original);
        double numeric = (plus - minus) / (2 * STEP);
        double err = Math.abs(numeric - backprop);
        System.out.printf("%s: backprop %.10g, finite difference %.10g, |error| %.3g (%.3g of sum|g*d|)%n", key,
                backprop, numeric, err, err / scale);
        assertTrue(err <= ATOL + RTOL * scale, String.format("%s: directional derivative by backprop %.10g vs finite"
                + " difference %.10g", key, backprop, numeric));
        return scale;
    }

    private static double lossAlong(Parameter p, double[] values, double[] direction, double step,
            UNet2DConditionModel unet, NDArray sample, NDArray timestep, NDArray context, NDArray cond,
            NDArray weightsR) {
        try (NDManager scope = sample.getManager().newSubManager()) {
            double[] moved = new double[values.length];
            for (int i = 0; i < moved.length; i++) {
                moved[i] = values[i] + step * direction[i];
            }
            p.set(scope.create(moved, p.shape()));
            NDArray x = sample.duplicate();
            x.attach(scope);
            return unet.forward(x, timestep, context, cond).mul(weightsR).sum().getDouble();
        }
    }

    private static boolean allZero(double[] a) {
        for (double v : a) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }
}
