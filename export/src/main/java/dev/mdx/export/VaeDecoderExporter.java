package dev.mdx.export;

import static dev.mdx.export.OnnxGraph.attr;

import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeDecoderConfig;
import java.util.List;
import onnx.Onnx.ModelProto;

/**
 * The ONNX graph of {@link AutoencoderKL#decode}: post_quant_conv (when the VAE has one), then the decoder, walked
 * as VaeDecoder's Java forward. Input {@value #LATENT} (B, latent_channels, h, w), unscaled (the runtime divides
 * the sampler's latents by the scaling factor first, as the pipeline does); output {@value #OUTPUT}
 * (B, 3, h * f, w * f), roughly in [-1, 1].
 */
final class VaeDecoderExporter {
    static final String LATENT = "latent_sample";
    static final String OUTPUT = "sample";

    private VaeDecoderExporter() {}

    static ModelProto export(AutoencoderKL vae, OnnxPrecision precision, String version) {
        OnnxGraph g = new OnnxGraph("vae_decoder", precision);
        Layers l = new Layers(g);
        VaeDecoderConfig config = vae.config().decoder();
        ModuleRef root = ModuleRef.root(vae);
        String h = g.input(LATENT, OnnxGraph.FLOAT, "batch", (long) config.latentChannels(), "height", "width");
        if (root.has("post_quant_conv")) {
            h = l.conv(root.child("post_quant_conv"), h);
        }
        ModuleRef decoder = root.child("decoder");
        boolean shuffle = config.upsampling() == VaeDecoderConfig.Upsampling.PIXEL_SHUFFLE;
        h = l.conv(decoder.child("conv_in"), h);
        ModuleRef mid = decoder.child("mid_block");
        h = resnet(l, mid.child("resnets").child(0), h);
        if (mid.has("attentions")) {
            h = attention(l, mid.child("attentions").child(0), h);
        }
        h = resnet(l, mid.child("resnets").child(1), h);
        ModuleRef ups = decoder.child("up_blocks");
        for (int i = 0; i < decoder.count("up_blocks"); i++) {
            ModuleRef block = ups.child(i);
            for (int j = 0; j < block.count("resnets"); j++) {
                h = resnet(l, block.child("resnets").child(j), h);
            }
            if (block.has("upsamplers")) {
                ModuleRef up = block.child("upsamplers").child(0);
                if (shuffle) {
                    h = depthToSpace(g, up.key(), l.conv(up.child("conv"), h));
                } else {
                    String scaled = g.op("Resize", up.key(), List.of(h, "", g.constant(up.paramKey("scales"),
                            new float[] {1, 1, 2, 2}, 4)), attr("mode", "nearest"),
                            attr("coordinate_transformation_mode", "asymmetric"), attr("nearest_mode", "floor"));
                    h = l.conv(up.child("conv"), scaled);
                }
            }
        }
        h = l.conv(decoder.child("conv_out"), l.silu(l.groupNorm(decoder.child("conv_norm_out"), h)));
        g.output(h, OUTPUT, OnnxGraph.FLOAT, "batch", (long) config.outChannels(), "image_height", "image_width");
        return g.model(version, "mdx AutoencoderKL decoder");
    }

    /** (B, 4C, H, W) -> (B, C, 2H, 2W) in torch's pixel_shuffle order, which is DepthToSpace's CRD mode. */
    private static String depthToSpace(OnnxGraph g, String hint, String x) {
        return g.op("DepthToSpace", hint, List.of(x), attr("blocksize", 2L), attr("mode", "CRD"));
    }

    private static String resnet(Layers l, ModuleRef ref, String x) {
        return UNetExporter.resnet(l, ref, x, null, 1.0);
    }

    /** VaeAttention: x + to_out(softmax attention of q, k, v projected from GroupNorm(x) over the H*W positions). */
    private static String attention(Layers l, ModuleRef ref, String x) {
        OnnxGraph g = l.graph();
        long channels = ref.child("group_norm").parameter("weight").shape().get(0);
        // (B, C, H, W) -> (B, C, H*W) -> (B, H*W, C)
        String seq = g.op("Transpose", ref.key(),
                List.of(g.op("Reshape", ref.key(), l.groupNorm(ref.child("group_norm"), x), g.ints(0, 0, -1))),
                attr("perm", 0, 2, 1));
        String attended = l.attention(ref.key(), l.linear(ref.child("to_q"), seq), l.linear(ref.child("to_k"), seq),
                l.linear(ref.child("to_v"), seq), 1, channels, dev.mdx.tensor.Ops.AttentionKind.SOFTMAX, null);
        String out = g.op("Transpose", ref.key(), List.of(l.linear(ref.child("to_out").child(0), attended)),
                attr("perm", 0, 2, 1));
        // (B, C, H*W) -> (B, C, H, W)
        return g.op("Add", ref.key(), g.op("Reshape", ref.key(), out, g.op("Shape", ref.key(), x)), x);
    }
}
