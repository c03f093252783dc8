package dev.mdx.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.nn.FeedForwardActivation;
import dev.mdx.nn.Parameter;
import dev.mdx.tensor.Ops;
import dev.mdx.testing.Golden;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TransformerBlockOptionsTest {
    private static final int DIM = 16;
    private static final int CONTEXT = 12;

    private static TransformerSpec spec(boolean selfAttention) {
        return new TransformerSpec(4, 1, CONTEXT, true, 4, false, selfAttention, Ops.AttentionKind.SOFTMAX, false,
                FeedForwardActivation.GEGLU, 4);
    }

    /** A block without self-attention equals a full block whose attn1 output projection is zero. */
    @Test
    void blockWithoutSelfAttentionEqualsFullBlockWithZeroAttn1() {
        Random rng = new Random(6);
        try (NDManager m = NDManager.newBaseManager()) {
            BasicTransformerBlock full = new BasicTransformerBlock(DIM, spec(true));
            BasicTransformerBlock crossOnly = new BasicTransformerBlock(DIM, spec(false));
            Map<String, Parameter> fullParams = full.namedParameters();
            Map<String, Parameter> crossParams = crossOnly.namedParameters();
            assertFalse(crossParams.keySet().stream().anyMatch(k -> k.startsWith("attn1.") || k.startsWith("norm1.")));
            assertEquals(fullParams.size() - 7, crossParams.size());
            fullParams.forEach((k, p) -> {
                NDArray value = k.startsWith("attn1.to_out") ? m.zeros(p.shape()) : randn(m, rng, p.shape());
                p.set(value);
                if (crossParams.containsKey(k)) {
                    crossParams.get(k).set(value);
                }
            });
            NDArray x = randn(m, rng, new Shape(2, 9, DIM));
            NDArray ctx = randn(m, rng, new Shape(2, 5, CONTEXT));
            Golden.assertClose(full.forward(x, ctx), crossOnly.forward(x, ctx), 0, "cross-only block");
        }
    }

    private static NDArray randn(NDManager m, Random rng, Shape s) {
        float[] data = new float[Math.toIntExact(s.size())];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) rng.nextGaussian() * 0.5f;
        }
        return m.create(data, s);
    }
}
