package dev.mdx.unet;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Attention;
import dev.mdx.nn.FeedForward;
import dev.mdx.nn.LayerNorm;
import dev.mdx.nn.Module;

/**
 * diffusers' {@code BasicTransformerBlock} (layer_norm type): x += attn1(norm1(x)); x += attn2(norm2(x), context);
 * x += ff(norm3(x)). Without self-attention (MobileDiffusion T2) norm1 and attn1 are absent and the other keys keep
 * their names.
 */
public final class BasicTransformerBlock extends Module {
    private static final float LAYER_NORM_EPS = 1e-5f;

    private final LayerNorm norm1;
    private final Attention attn1;
    private final boolean attn1OnContext;
    private final LayerNorm norm2;
    private final Attention attn2;
    private final LayerNorm norm3;
    private final FeedForward ff;

    public BasicTransformerBlock(int dim, TransformerSpec spec) {
        int headDim = dim / spec.heads();
        if (spec.selfAttention()) {
            this.norm1 = child("norm1", new LayerNorm(dim, LAYER_NORM_EPS));
            int kvDim = spec.onlyCrossAttention() ? spec.contextDim() : dim;
            this.attn1 = child("attn1", new Attention(
                    new Attention.Spec(dim, kvDim, spec.heads(), headDim, spec.kind(), spec.sharedKv())));
        } else {
            this.norm1 = null;
            this.attn1 = null;
        }
        this.attn1OnContext = spec.onlyCrossAttention();
        this.norm2 = child("norm2", new LayerNorm(dim, LAYER_NORM_EPS));
        this.attn2 = child("attn2", new Attention(
                new Attention.Spec(dim, spec.contextDim(), spec.heads(), headDim, spec.kind(), spec.sharedKv())));
        this.norm3 = child("norm3", new LayerNorm(dim, LAYER_NORM_EPS));
        this.ff = child("ff", new FeedForward(dim, (int) (dim * spec.ffMult()), spec.ffActivation()));
    }

    /**
     * @param x (B, N, dim)
     * @param context (B, Nc, contextDim)
     * @return (B, N, dim)
     */
    public NDArray forward(NDArray x, NDArray context) {
        if (attn1 != null) {
            x = x.add(attn1.forward(norm1.forward(x), attn1OnContext ? context : null));
        }
        x = x.add(attn2.forward(norm2.forward(x), context));
        return x.add(ff.forward(norm3.forward(x)));
    }
}
