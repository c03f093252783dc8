package dev.mdx.memory;

import dev.mdx.vae.VaeConfig;
import dev.mdx.vae.VaeDecoderConfig;
import java.util.List;

/**
 * Walks one {@code AutoencoderKL.decode} of a (1, latent_channels, h, w) latent with shapes: each decoder stage
 * (conv_in, mid block, up block, the output head) frees its input once it has run, each resnet half, attention
 * and upsampler runs in its own scope, so what is held at any time is the running stage's input plus the layer's
 * own intermediates. Nothing is allocated.
 */
final class VaeDecodeActivations {
    private final VaeConfig c;
    private final Layers ops;
    private final Tally t;

    private VaeDecodeActivations(VaeConfig c, Tally t) {
        this.c = c;
        this.t = t;
        this.ops = new Layers(t);
    }

    /** Walks the decode of a latent of (h, w) into {@code t}; the 3-channel result stays held. */
    static void walk(Tally t, VaeConfig c, double h, double w) {
        new VaeDecodeActivations(c, t).walk(h, w);
    }

    private void walk(double h, double w) {
        VaeDecoderConfig d = c.decoder();
        List<Integer> channels = d.blockOutChannels();
        int levels = channels.size();
        double latent = c.latentChannels() * h * w;
        // the pipeline's latent / scaling_factor (+ shift_factor)
        ops.elementwise(c.shiftFactor().isPresent() ? 2 * latent : latent);
        if (c.usePostQuantConv()) {
            ops.conv(latent, latent);
        }
        int top = channels.get(levels - 1);
        ops.conv(latent, top * h * w);
        double cur = top * h * w;
        cur = next(cur, midBlock(top, d.midBlockAttention(), h, w));
        for (int i = 0; i < levels; i++) {
            int out = d.width(i);
            // the block's input is the decoder's to free; its own intermediates replace each other
            double b = resnet(d.blockInChannels(i), out, h, w);
            for (int j = 1; j < d.layersPerBlock() + 1; j++) {
                b = next(b, resnet(out, out, h, w));
            }
            if (d.hasUpsampler(i)) {
                int up = d.upsampledChannels(i);
                Tally.Mark scope = t.open();
                if (d.upsampling() == VaeDecoderConfig.Upsampling.PIXEL_SHUFFLE) {
                    ops.conv(out * h * w, 4 * up * h * w);
                    ops.elementwise(4 * up * h * w); // depth-to-space copy
                } else {
                    ops.elementwise(out * 2 * h * w); // nearest x2 along H
                    ops.elementwise(out * 4 * h * w); // and along W
                    ops.conv(out * 4 * h * w, up * 4 * h * w);
                }
                t.close(scope, Layers.bytes(up * 4 * h * w));
                t.free(Layers.bytes(b));
                b = up * 4 * h * w;
                h *= 2;
                w *= 2;
            }
            cur = next(cur, b);
        }
        Tally.Mark head = t.open();
        ops.groupNorm(channels.get(0) * h * w);
        ops.silu(channels.get(0) * h * w);
        ops.conv(channels.get(0) * h * w, d.outChannels() * h * w);
        t.close(head, Layers.bytes(d.outChannels() * h * w));
        t.free(Layers.bytes(cur));
    }

    /** A stage's result replaces its input, which is freed; returns the result's element count. */
    private double next(double previous, double result) {
        t.free(Layers.bytes(previous));
        return result;
    }

    /** resnet, optional attention, resnet; each replaces the previous output. */
    private double midBlock(int ch, boolean attention, double h, double w) {
        double n = ch * h * w;
        double cur = resnet(ch, ch, h, w);
        if (attention) {
            Tally.Mark scope = t.open();
            ops.groupNorm(n);
            for (int p = 0; p < 3; p++) {
                ops.linear(n, n, false); // q, k, v from a transposed view
            }
            ops.attention(1, h * w, h * w, ch, 1);
            ops.linear(n, n, true);
            ops.elementwise(n); // (B, H*W, C) -> (B, C, H, W)
            ops.elementwise(n); // + x
            t.close(scope, Layers.bytes(n));
            cur = next(cur, n);
        }
        return next(cur, resnet(ch, ch, h, w));
    }

    /** VaeResnetBlock: two scoped norm-SiLU-conv halves, the shortcut and the sum; returns the output's size. */
    private double resnet(int in, int out, double h, double w) {
        double x = in * h * w;
        double y = out * h * w;
        Tally.Mark scope = t.open();
        for (double half : new double[] {x, y}) {
            Tally.Mark m = t.open();
            ops.groupNorm(half);
            ops.silu(half);
            ops.conv(half, y);
            t.close(m, Layers.bytes(y));
        }
        t.free(Layers.bytes(y)); // the first half's output
        if (in != out) {
            ops.conv(x, y);
        }
        ops.elementwise(y);
        t.close(scope, Layers.bytes(y));
        return y;
    }
}
