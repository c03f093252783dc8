package dev.mdx.inspect;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.models.ModelConfigs;
import java.util.List;

/**
 * The analytic cost of every known component of a model at one image resolution.
 *
 * @param model preset name or folder
 * @param resolution image side in pixels
 * @param latent latent side (resolution / the VAE's downsampling factor)
 * @param latentFactorAssumed true when no VAE config was known and an 8x VAE was assumed
 * @param batch images per forward
 * @param components per component, in pipeline order
 */
public record ModelCost(String model, int resolution, int latent, boolean latentFactorAssumed, int batch,
        List<ComponentCost> components) {
    /** A VAE downsamples by this when the model has no VAE config to say (every SD-family VAE). */
    public static final int DEFAULT_VAE_FACTOR = 8;
    /** CLIP's sequence length, used when no text encoder config is known. */
    public static final int DEFAULT_CONTEXT_LENGTH = 77;

    public ModelCost {
        components = List.copyOf(components);
    }

    /**
     * @param resolution image side; must be a multiple of the VAE factor
     * @param batch images per forward (2 gives the cost of a classifier-free-guidance UNet step)
     */
    public static ModelCost of(ModelConfigs m, int resolution, int batch) {
        int factor = m.vae() != null ? m.vae().downsampleFactor() : DEFAULT_VAE_FACTOR;
        if (resolution < factor || resolution % factor != 0) {
            throw new IllegalArgumentException("resolution " + resolution + " must be a positive multiple of the VAE's "
                    + "downsampling factor " + factor);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        int latent = resolution / factor;
        int context = m.textEncoder() != null ? m.textEncoder().maxPositionEmbeddings() : DEFAULT_CONTEXT_LENGTH;
        List<ComponentCost> out = new java.util.ArrayList<>();
        if (m.textEncoder() != null) {
            out.add(TextEncoderCost.of(m.textEncoder(), batch, context));
        }
        if (m.unet() != null) {
            out.add(UNetCost.of(m.unet(), batch, latent, latent, context));
        }
        if (m.vae() != null) {
            out.add(VaeCost.encoder(m.vae(), batch, resolution, resolution));
            out.add(VaeCost.decoder(m.vae(), "vae decoder", batch, latent, latent));
        }
        if (m.vaeLight() != null) {
            out.add(VaeCost.decoder(m.vaeLight(), "vae decoder (light)", batch, latent, latent));
        }
        return new ModelCost(m.name(), resolution, latent, m.vae() == null, batch, out);
    }

    /** The component of that name, or null. */
    public ComponentCost component(String name) {
        return components.stream().filter(c -> c.component().equals(name)).findFirst().orElse(null);
    }

    /** The report as JSON: totals per component and per part, FLOPs split by op kind. */
    public ObjectNode toJsonNode() {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.put("model", model);
        o.put("resolution", resolution);
        o.put("latent", latent);
        o.put("latent_factor_assumed", latentFactorAssumed);
        o.put("batch", batch);
        o.put("flops_note", "2 per multiply-add of convolutions, linear layers and attention matmuls");
        ArrayNode list = o.putArray("components");
        for (ComponentCost c : components) {
            ObjectNode n = list.addObject();
            n.put("component", c.component());
            n.put("input", c.input());
            putCounts(n, c.params(), c.flops(), c.convFlops(), c.linearFlops(), c.attentionFlops());
            ArrayNode parts = n.putArray("parts");
            for (PartCost p : c.parts()) {
                ObjectNode pn = parts.addObject();
                pn.put("part", p.part());
                putCounts(pn, p.params(), p.flops(), p.convFlops(), p.linearFlops(), p.attentionFlops());
            }
        }
        return o;
    }

    private static void putCounts(ObjectNode n, long params, long flops, long conv, long linear, long attention) {
        n.put("params", params);
        n.put("flops", flops);
        n.put("conv_flops", conv);
        n.put("linear_flops", linear);
        n.put("attention_flops", attention);
    }
}
