package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Probe;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Module;
import java.nio.file.Path;
import java.util.Map;

/**
 * diffusers AutoencoderKL: {@code encoder}, {@code quant_conv}, {@code post_quant_conv}, {@code decoder} with the
 * exact diffusers state-dict keys. Latents in and out are unscaled; {@link #scalingFactor()} is for the pipeline.
 */
public final class AutoencoderKL extends Module {
    /** diffusers clamps the posterior log-variance to this range before use. */
    static final float LOGVAR_MIN = -30f;
    static final float LOGVAR_MAX = 20f;

    /** Attention names of checkpoints saved before diffusers 0.14, renamed on load as diffusers does. */
    private static final Map<String, String> LEGACY_ATTENTION_NAMES = Map.of(
            ".query.", ".to_q.", ".key.", ".to_k.", ".value.", ".to_v.", ".proj_attn.", ".to_out.0.");

    private final VaeConfig config;
    private final VaeEncoder encoder;
    private final Conv2d quantConv;
    private final Conv2d postQuantConv;
    private final VaeDecoder decoder;

    public AutoencoderKL(VaeConfig config) {
        this.config = config;
        int latent = config.latentChannels();
        encoder = child("encoder", new VaeEncoder(config));
        quantConv = config.useQuantConv() ? child("quant_conv", new Conv2d(2 * latent, 2 * latent, 1, 1, 0)) : null;
        postQuantConv = config.usePostQuantConv() ? child("post_quant_conv", new Conv2d(latent, latent, 1, 1, 0))
                : null;
        decoder = child("decoder", new VaeDecoder(config.decoder()));
    }

    /**
     * Builds the model from a diffusers {@code vae/} folder ({@code config.json} and
     * {@code diffusion_pytorch_model.safetensors}) and loads its weights into {@code manager}.
     */
    public static AutoencoderKL load(Path vaeDir, NDManager manager) {
        AutoencoderKL model = new AutoencoderKL(VaeConfig.read(vaeDir.resolve("config.json")));
        model.loadWeights(vaeDir.resolve("diffusion_pytorch_model.safetensors"), manager);
        return model;
    }

    /** Strictly loads diffusers weights, accepting the pre-0.14 attention key names too. */
    public void loadWeights(Path safetensors, NDManager manager) {
        try (SafeTensorsFile st = SafeTensorsFile.open(safetensors)) {
            StateDicts.load(this, st, manager, AutoencoderKL::modernKey);
        }
    }

    static String modernKey(String fileKey) {
        if (!fileKey.contains(".mid_block.attentions.")) {
            return fileKey;
        }
        String key = fileKey;
        for (Map.Entry<String, String> e : LEGACY_ATTENTION_NAMES.entrySet()) {
            key = key.replace(e.getKey(), e.getValue());
        }
        return key;
    }

    public VaeConfig config() {
        return config;
    }

    public VaeEncoder encoder() {
        return encoder;
    }

    public VaeDecoder decoder() {
        return decoder;
    }

    /** Latents are multiplied by this after encoding and divided by it before decoding (by the caller). */
    public double scalingFactor() {
        return config.scalingFactor();
    }

    public LatentDistribution encode(NDArray image) {
        return encode(image, Probe.off());
    }

    /** (B, in_channels, H, W) in [-1, 1] -> posterior over (B, latent_channels, H / f, W / f). */
    public LatentDistribution encode(NDArray image, Probe probe) {
        NDArray moments = encoder.forward(image, probe.child("encoder"));
        if (quantConv != null) {
            moments = quantConv.forward(moments);
            probe.record("quant_conv", moments);
        }
        // (B, 2C, h, w) -> mean (B, C, h, w), logvar (B, C, h, w)
        NDList halves = moments.split(new long[] {config.latentChannels()}, 1);
        return new LatentDistribution(halves.get(0), halves.get(1).clip(LOGVAR_MIN, LOGVAR_MAX));
    }

    public NDArray decode(NDArray latent) {
        return decode(latent, Probe.off());
    }

    /** (B, latent_channels, h, w), unscaled -> (B, out_channels, h * f, w * f), roughly in [-1, 1]. */
    public NDArray decode(NDArray latent, Probe probe) {
        if (postQuantConv == null) {
            return decoder.forward(latent, probe.child("decoder"));
        }
        NDArray z = probe.record("post_quant_conv", postQuantConv.forward(latent));
        NDArray image = decoder.forward(z, probe.child("decoder"));
        return probe.enabled() ? image : VaeDecoder.next(latent, z, image);
    }

    /**
     * As {@link #decode(NDArray)}, in overlapping tiles when {@code tiling} splits the latent (diffusers'
     * {@code tiled_decode}, see {@link VaeTiling}); a latent that fits one tile is decoded whole, with the same
     * result. Tiles are decoded one after the other, each in its own scope, so the memory is that of one tile's
     * decode plus the output image.
     */
    public NDArray decode(NDArray latent, VaeTiling tiling) {
        Shape s = latent.getShape();
        if (!tiling.splits(s.get(2), s.get(3))) {
            return decode(latent);
        }
        return VaeTiledDecode.decode(latent, tiling, config.downsampleFactor(), this::decode);
    }
}
