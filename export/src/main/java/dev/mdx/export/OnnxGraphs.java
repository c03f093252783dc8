package dev.mdx.export;

import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.vae.AutoencoderKL;

/** The ONNX bytes of each exportable mdx component, from a loaded model (weights set). */
public final class OnnxGraphs {
    /** The producer version written into every graph. */
    public static final String PRODUCER_VERSION = "0.1.0";

    private OnnxGraphs() {}

    public static byte[] unet(UNet2DConditionModel unet, OnnxPrecision precision) {
        return UNetExporter.export(unet, precision, PRODUCER_VERSION).toByteArray();
    }

    public static byte[] textEncoder(ClipTextModel model, OnnxPrecision precision) {
        return TextEncoderExporter.export(model, precision, PRODUCER_VERSION).toByteArray();
    }

    public static byte[] vaeDecoder(AutoencoderKL vae, OnnxPrecision precision) {
        return VaeDecoderExporter.export(vae, precision, PRODUCER_VERSION).toByteArray();
    }
}
