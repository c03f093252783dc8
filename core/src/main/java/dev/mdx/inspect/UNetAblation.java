package dev.mdx.inspect;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.unet.UNetConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The analytic effect of each MobileDiffusion architecture change (paper notes 2.1, T1-T6 and C1-C2) applied
 * alone to an SD-1.5-like UNet at MobileDiffusion's widths, and of all of them together (which is the
 * {@code mobilediffusion} preset's UNet).
 */
public final class UNetAblation {
    /**
     * SD-1.5's block design on MobileDiffusion's three levels and widths: a full transformer after every ResBlock
     * at every level (SD-1.5 has them at 64, 32 and 16), 2 ResBlocks per level down and 3 up, GEGLU with ratio 8,
     * separate K and V, softmax, plain convs; 8 latent channels and a CLIP-L context.
     */
    public static final String BASELINE = """
            {"_class_name": "UNet2DConditionModel", "in_channels": 8, "out_channels": 8, "sample_size": 64,
             "block_out_channels": [320, 640, 1024], "attention_head_dim": [5, 10, 16],
             "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
             "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
             "layers_per_block": 2, "cross_attention_dim": 768}""";

    /**
     * One change of the paper.
     *
     * @param id the paper notes' label (T1..T6, C1, C2)
     * @param change what is changed, in words
     * @param overrides the config keys that make the change
     * @param reported the effect the paper reports
     */
    public record Change(String id, String change, String overrides, String reported) {}

    public static final List<Change> CHANGES = List.of(
            new Change("T1", "no transformers at 64x64; 2 per ResBlock at 16x16 and a 9-block mid stack",
                    """
                    {"down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
                     "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
                     "transformer_layers_per_block": [1, 1, 2], "mid_block_transformer_layers": 9}""",
                    "~26% runtime improvement, no quality loss"),
            new Change("T2", "self-attention removed at 64x64 and 32x32 (cross-attention + FFN kept)",
                    "{\"self_attention_levels\": [false, false, true]}",
                    "~15% runtime improvement, no quality loss"),
            new Change("T3", "shared key/value projection", "{\"shared_kv_projection\": true}",
                    "~5% fewer parameters, no quality loss"),
            new Change("T4", "GELU -> Swish in the gated FFN", "{\"ff_activation\": \"swiglu\"}",
                    "no loss in metrics (numerical stability on mobile)"),
            new Change("T5", "softmax -> ReLU attention", "{\"attention_kind\": \"relu\"}",
                    "FID 12.50 -> 12.31 (mobile-friendly op, same work)"),
            new Change("T6", "FFN expansion 8 -> 6 (ff_mult 4 -> 3)", "{\"ff_mult\": 3}",
                    "~10% fewer parameters, FID 12.31 -> 12.58"),
            new Change("C1", "separable 3x3 convs in the resnets of levels 1-2 and the mid block",
                    "{\"separable_conv_levels\": [false, true, true]}", "~10% fewer parameters"),
            new Change("C2", "ResBlocks 1/1/2 down, 1 mid, 2/2/3 up (12 instead of 17 here, 22 in SD-1.5)",
                    "{\"layers_per_block\": [1, 1, 2], \"mid_block_resnets\": 1}",
                    "~19% compute saving, ~15% fewer parameters (22 -> 12)"));

    /**
     * One row of the table.
     *
     * @param id T1..C2, "baseline" or "all"
     * @param change what differs from the baseline
     * @param config the UNet config
     * @param cost its parameters and FLOPs
     * @param reported the paper's reported effect, or empty
     */
    public record Row(String id, String change, UNetConfig config, ComponentCost cost, String reported) {}

    private UNetAblation() {}

    /** The baseline, each change alone, and all changes together, at a latent x latent input of batch 1. */
    public static List<Row> rows(int latent) {
        List<Row> rows = new ArrayList<>();
        rows.add(row("baseline", "SD-1.5-like blocks at MobileDiffusion's widths (320/640/1024)", base(), latent, ""));
        ObjectNode all = base();
        for (Change c : CHANGES) {
            ObjectNode one = base();
            ObjectNode delta = JsonConfig.parse(c.id(), c.overrides()).copyRoot();
            one.setAll(delta);
            all.setAll(delta);
            rows.add(row(c.id(), c.change(), one, latent, c.reported()));
        }
        rows.add(row("all", "all changes together: the mobilediffusion preset (which trains with softmax; T5 is a fine-tune)", all,
                latent, "~386M parameters"));
        return rows;
    }

    private static ObjectNode base() {
        return JsonConfig.parse("ablation baseline", BASELINE).copyRoot();
    }

    private static Row row(String id, String change, ObjectNode json, int latent, String reported) {
        UNetConfig config = UNetConfig.fromJson(new JsonConfig("ablation " + id, json));
        return new Row(id, change, config, UNetCost.of(config, 1, latent, latent, ModelCost.DEFAULT_CONTEXT_LENGTH),
                reported);
    }
}
