package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.GroupNorm;
import dev.mdx.nn.Module;
import dev.mdx.tensor.Ops;
import dev.mdx.tensor.Scopes;

/**
 * diffusers ResnetBlock2D as the VAE uses it (no time embedding): GroupNorm -> SiLU -> conv3x3 -> GroupNorm ->
 * SiLU -> conv3x3, added to the input (through a 1x1 {@code conv_shortcut} when the channel count changes).
 */
final class VaeResnetBlock extends Module {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d convShortcut;

    VaeResnetBlock(int in, int out, int groups) {
        norm1 = child("norm1", new GroupNorm(groups, in, VaeConfig.NORM_EPS));
        conv1 = child("conv1", new Conv2d(in, out, 3, 1, 1));
        norm2 = child("norm2", new GroupNorm(groups, out, VaeConfig.NORM_EPS));
        conv2 = child("conv2", new Conv2d(out, out, 3, 1, 1));
        convShortcut = in != out ? child("conv_shortcut", new Conv2d(in, out, 1, 1, 0)) : null;
    }

    /** (B, in, H, W) -> (B, out, H, W). */
    NDArray forward(NDArray x) {
        return Scopes.run(() -> compute(x), x);
    }

    private NDArray compute(NDArray x) {
        // each norm + SiLU makes seven arrays the size of its input; freeing them after their conv halves the
        // block's peak, which at the decoder's full resolution is the decode's peak
        NDArray h1 = Scopes.run(() -> conv1.forward(Ops.silu(norm1.forward(x))), x);
        NDArray h2 = Scopes.run(() -> conv2.forward(Ops.silu(norm2.forward(h1))), h1);
        h1.close();
        NDArray residual = convShortcut == null ? x : convShortcut.forward(x);
        return residual.add(h2);
    }
}
