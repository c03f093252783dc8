package dev.mdx.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.mdx.tensor.Scopes;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.GroupNorm;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;

/**
 * diffusers' {@code Transformer2DModel} on continuous input: GroupNorm(eps 1e-6) -> proj_in ->
 * transformer_blocks -> proj_out -> + residual. proj_in/proj_out are 1x1 convs applied in NCHW, or Linear layers
 * applied on the token layout when {@code use_linear_projection}.
 */
public final class Transformer2DModel extends Module {
    private static final float NORM_EPS = 1e-6f;

    private final GroupNorm norm;
    private final Conv2d projInConv;
    private final Linear projInLinear;
    private final ModuleList<BasicTransformerBlock> blocks;
    private final Conv2d projOutConv;
    private final Linear projOutLinear;

    public Transformer2DModel(int channels, TransformerSpec spec) {
        if (channels % spec.heads() != 0) {
            throw new IllegalArgumentException(spec.heads() + " heads do not divide " + channels + " channels");
        }
        this.norm = child("norm", new GroupNorm(spec.groups(), channels, NORM_EPS));
        if (spec.linearProjection()) {
            this.projInLinear = child("proj_in", new Linear(channels, channels, true));
            this.projInConv = null;
        } else {
            this.projInConv = child("proj_in", new Conv2d(channels, channels, 1, 1, 0));
            this.projInLinear = null;
        }
        this.blocks = child("transformer_blocks", new ModuleList<>());
        for (int i = 0; i < spec.layers(); i++) {
            blocks.add(new BasicTransformerBlock(channels, spec));
        }
        if (spec.linearProjection()) {
            this.projOutLinear = child("proj_out", new Linear(channels, channels, true));
            this.projOutConv = null;
        } else {
            this.projOutConv = child("proj_out", new Conv2d(channels, channels, 1, 1, 0));
            this.projOutLinear = null;
        }
    }

    /**
     * @param x (B, C, H, W)
     * @param context (B, Nc, contextDim)
     * @return (B, C, H, W)
     */
    public NDArray forward(NDArray x, NDArray context) {
        return Scopes.run(() -> compute(x, context), x, context);
    }

    private NDArray compute(NDArray x, NDArray context) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        NDArray hidden = norm.forward(x);
        if (projInConv != null) {
            hidden = projInConv.forward(hidden);
        }
        // (B, C, H, W) -> (B, H*W, C)
        hidden = hidden.transpose(0, 2, 3, 1).reshape(b, h * w, c);
        if (projInLinear != null) {
            hidden = projInLinear.forward(hidden);
        }
        for (BasicTransformerBlock block : blocks.items()) {
            NDArray in = hidden;
            hidden = Scopes.run(() -> block.forward(in, context), in, context);
        }
        if (projOutLinear != null) {
            hidden = projOutLinear.forward(hidden);
        }
        // (B, H*W, C) -> (B, C, H, W)
        hidden = hidden.reshape(b, h, w, c).transpose(0, 3, 1, 2);
        if (projOutConv != null) {
            hidden = projOutConv.forward(hidden);
        }
        return hidden.add(x);
    }
}
