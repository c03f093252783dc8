package dev.mdx.inspect;

import dev.mdx.vae.VaeConfig;
import dev.mdx.vae.VaeDecoderConfig;
import java.util.List;

/** Parameters and forward FLOPs of an {@link dev.mdx.vae.AutoencoderKL}'s encoder and decoder, from its config. */
public final class VaeCost {
    public static final String CONV_IN = "conv_in";
    public static final String RESNETS = "resnets";
    public static final String DOWNSAMPLERS = "downsamplers";
    public static final String UPSAMPLERS = "upsamplers";
    public static final String MID_ATTENTION = "mid-block attention";
    public static final String CONV_OUT = "conv_norm_out + conv_out";
    public static final String QUANT_CONV = "quant_conv";
    public static final String POST_QUANT_CONV = "post_quant_conv";

    private VaeCost() {}

    /** The encoder and quant_conv on images of (batch, in_channels, height, width). */
    public static ComponentCost encoder(VaeConfig c, int batch, int height, int width) {
        requirePositive(batch, height, width);
        CostSheet s = new CostSheet();
        List<Integer> channels = c.blockOutChannels();
        long h = height;
        long w = width;
        s.conv(CONV_IN, c.inChannels(), channels.get(0), 3, 1, true, batch, h, w);
        int in = channels.get(0);
        for (int i = 0; i < channels.size(); i++) {
            int out = channels.get(i);
            for (int j = 0; j < c.layersPerBlock(); j++) {
                resnet(s, j == 0 ? in : out, out, batch, h, w);
            }
            if (i < channels.size() - 1) {
                // one zero column and row on the right and bottom, then 3x3 stride 2 without padding
                h = (h + 1 - 3) / 2 + 1;
                w = (w + 1 - 3) / 2 + 1;
                s.conv(DOWNSAMPLERS, out, out, 3, 1, true, batch, h, w);
            }
            in = out;
        }
        midBlock(s, in, c.midBlockAttention(), batch, h, w);
        s.norm(CONV_OUT, in);
        s.conv(CONV_OUT, in, 2 * c.latentChannels(), 3, 1, true, batch, h, w);
        if (c.useQuantConv()) {
            s.conv(QUANT_CONV, 2 * c.latentChannels(), 2 * c.latentChannels(), 1, 1, true, batch, h, w);
        }
        return s.build("vae encoder", String.format("image (%d, %d, %d, %d)", batch, c.inChannels(), height, width));
    }

    /**
     * post_quant_conv and the decoder ({@link VaeConfig#decoder()}, which may be a light one) on latents of
     * (batch, latent_channels, height, width).
     */
    public static ComponentCost decoder(VaeConfig c, String component, int batch, int height, int width) {
        requirePositive(batch, height, width);
        CostSheet s = new CostSheet();
        VaeDecoderConfig d = c.decoder();
        List<Integer> channels = d.blockOutChannels();
        int levels = channels.size();
        long h = height;
        long w = width;
        if (c.usePostQuantConv()) {
            s.conv(POST_QUANT_CONV, c.latentChannels(), c.latentChannels(), 1, 1, true, batch, h, w);
        }
        int top = channels.get(levels - 1);
        s.conv(CONV_IN, d.latentChannels(), top, 3, 1, true, batch, h, w);
        midBlock(s, top, d.midBlockAttention(), batch, h, w);
        for (int i = 0; i < levels; i++) {
            int out = d.width(i);
            for (int j = 0; j < d.layersPerBlock() + 1; j++) {
                resnet(s, j == 0 ? d.blockInChannels(i) : out, out, batch, h, w);
            }
            if (d.hasUpsampler(i)) {
                boolean shuffle = d.upsampling() == VaeDecoderConfig.Upsampling.PIXEL_SHUFFLE;
                if (shuffle) { // at this resolution, to 4x the channels, then depth-to-space
                    s.conv(UPSAMPLERS, out, 4 * d.upsampledChannels(i), 3, 1, true, batch, h, w);
                }
                h *= 2;
                w *= 2;
                if (!shuffle) { // nearest x2, then the conv at the doubled resolution
                    s.conv(UPSAMPLERS, out, out, 3, 1, true, batch, h, w);
                }
            }
        }
        s.norm(CONV_OUT, channels.get(0));
        s.conv(CONV_OUT, channels.get(0), d.outChannels(), 3, 1, true, batch, h, w);
        return s.build(component, String.format("latent (%d, %d, %d, %d)", batch, c.latentChannels(), height, width));
    }

    private static void resnet(CostSheet s, int in, int out, long batch, long h, long w) {
        s.norm(RESNETS, in);
        s.conv(RESNETS, in, out, 3, 1, true, batch, h, w);
        s.norm(RESNETS, out);
        s.conv(RESNETS, out, out, 3, 1, true, batch, h, w);
        if (in != out) {
            s.conv(RESNETS, in, out, 1, 1, true, batch, h, w);
        }
    }

    /** resnet, single-head self-attention over all h * w positions (optional), resnet. */
    private static void midBlock(CostSheet s, int channels, boolean attention, long batch, long h, long w) {
        resnet(s, channels, channels, batch, h, w);
        if (attention) {
            long tokens = h * w;
            s.norm(MID_ATTENTION, channels);
            for (int p = 0; p < 3; p++) { // q, k, v
                s.linear(MID_ATTENTION, channels, channels, true, batch * tokens);
            }
            s.attention(MID_ATTENTION, batch, tokens, tokens, channels);
            s.linear(MID_ATTENTION, channels, channels, true, batch * tokens);
        }
        resnet(s, channels, channels, batch, h, w);
    }

    private static void requirePositive(int batch, int height, int width) {
        if (batch < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("batch and spatial size must be positive");
        }
    }
}
