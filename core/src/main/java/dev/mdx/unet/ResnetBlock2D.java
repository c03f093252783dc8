package dev.mdx.unet;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.ConvLayer;
import dev.mdx.nn.GroupNorm;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;
import dev.mdx.nn.SeparableConv2d;
import dev.mdx.tensor.Ops;
import dev.mdx.tensor.Scopes;

/**
 * diffusers' {@code ResnetBlock2D} with the default time-embedding mode: GroupNorm -> SiLU -> conv1 (3x3) -> +
 * time_emb_proj(SiLU(temb)) -> GroupNorm -> SiLU -> conv2 (3x3), plus a 1x1 {@code conv_shortcut} when the channel
 * count changes; output (shortcut + h) / outputScale. conv1 and conv2 may be depthwise-separable (MobileDiffusion).
 */
public final class ResnetBlock2D extends Module {
    private final GroupNorm norm1;
    private final ConvLayer conv1;
    private final Linear timeEmbProj;
    private final GroupNorm norm2;
    private final ConvLayer conv2;
    private final Conv2d convShortcut;
    private final double outputScale;

    public ResnetBlock2D(int in, int out, int tembChannels, int groups, float eps, double outputScale,
            boolean separable) {
        this.outputScale = outputScale;
        this.norm1 = child("norm1", new GroupNorm(groups, in, eps));
        this.conv1 = conv3x3("conv1", in, out, separable);
        this.timeEmbProj = child("time_emb_proj", new Linear(tembChannels, out, true));
        this.norm2 = child("norm2", new GroupNorm(groups, out, eps));
        this.conv2 = conv3x3("conv2", out, out, separable);
        this.convShortcut = in != out ? child("conv_shortcut", new Conv2d(in, out, 1, 1, 0)) : null;
    }

    private ConvLayer conv3x3(String name, int in, int out, boolean separable) {
        if (separable) {
            return child(name, new SeparableConv2d(in, out, 3, 1, 1));
        }
        return child(name, new Conv2d(in, out, 3, 1, 1));
    }

    /**
     * @param x (B, in, H, W)
     * @param tembAct SiLU(time embedding), (B, tembChannels); the activation is shared by all resnets, so the
     *     caller applies it once
     * @return (B, out, H, W)
     */
    public NDArray forward(NDArray x, NDArray tembAct) {
        return Scopes.run(() -> compute(x, tembAct), x, tembAct);
    }

    private NDArray compute(NDArray x, NDArray tembAct) {
        NDArray h = conv1.forward(Ops.silu(norm1.forward(x)));
        NDArray t = timeEmbProj.forward(tembAct);
        // (B, out) -> (B, out, 1, 1)
        h = h.add(t.reshape(t.getShape().get(0), t.getShape().get(1), 1, 1));
        h = conv2.forward(Ops.silu(norm2.forward(h)));
        NDArray shortcut = convShortcut == null ? x : convShortcut.forward(x);
        NDArray sum = shortcut.add(h);
        return outputScale == 1.0 ? sum : Ops.divScalar(sum, outputScale);
    }
}
