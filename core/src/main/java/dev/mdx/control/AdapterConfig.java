package dev.mdx.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.unet.UNetConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a {@link ControlAdapter} and the UNet it was trained for. Stored as JSON in the adapter file's
 * safetensors metadata (key {@value #METADATA_KEY}), so a file alone says what it fits.
 *
 * @param condition the kind of map it reads
 * @param conditionChannels channels of the map (1 for edges and masks)
 * @param downscaleFactor pixel-unshuffle factor: the VAE's, so level 0 runs at the latent resolution
 * @param channels the adapter's width per UNet level
 * @param resBlocks residual blocks per level
 * @param unetChannels the UNet's block_out_channels: the widths its residuals must have
 * @param midBlock whether it also adds a residual to the mid block's output
 */
public record AdapterConfig(ConditionType condition, int conditionChannels, int downscaleFactor,
        List<Integer> channels, int resBlocks, List<Integer> unetChannels, boolean midBlock) {
    public static final String METADATA_KEY = "mdx_adapter_config";

    public AdapterConfig {
        channels = List.copyOf(channels);
        unetChannels = List.copyOf(unetChannels);
        if (conditionChannels < 1 || downscaleFactor < 1 || resBlocks < 0) {
            throw new IllegalArgumentException("condition_channels and downscale_factor must be >= 1 and res_blocks"
                    + " >= 0");
        }
        if (channels.size() != unetChannels.size() || channels.isEmpty() || channels.stream().anyMatch(c -> c < 1)) {
            throw new IllegalArgumentException("channels must give one positive width per UNet level ("
                    + unetChannels.size() + "), got " + channels);
        }
    }

    /** The default adapter of a UNet: half its width per level, two residual blocks, down blocks only. */
    public static AdapterConfig forUnet(UNetConfig unet, int vaeFactor, ConditionType condition) {
        List<Integer> widths = new ArrayList<>();
        for (int c : unet.blockOutChannels()) {
            widths.add(Math.max(8, c / 2));
        }
        return new AdapterConfig(condition, 1, vaeFactor, widths, 2, unet.blockOutChannels(), false);
    }

    /**
     * Fails with one message when this adapter cannot drive {@code unet} behind a VAE of {@code vaeFactor}: its
     * residuals' widths or count differ, or its level 0 would not land on the latent grid.
     */
    public void requireFits(UNetConfig unet, int vaeFactor, String what) {
        List<String> problems = new ArrayList<>();
        if (!unet.blockOutChannels().equals(unetChannels)) {
            problems.add("it was trained for a UNet with block_out_channels " + unetChannels + ", this one has "
                    + unet.blockOutChannels());
        }
        if (vaeFactor != downscaleFactor) {
            problems.add("it reads maps at " + downscaleFactor + "x the latent size, this model's VAE scales by "
                    + vaeFactor);
        }
        if (!problems.isEmpty()) {
            throw new AdapterMismatchException(what + " does not fit this model: " + String.join("; ", problems));
        }
    }

    public ObjectNode toJsonNode() {
        ObjectNode n = JsonConfig.MAPPER.createObjectNode();
        n.put("condition", condition.cliName());
        n.put("condition_channels", conditionChannels);
        n.put("downscale_factor", downscaleFactor);
        channels.forEach(n.putArray("channels")::add);
        n.put("res_blocks", resBlocks);
        unetChannels.forEach(n.putArray("unet_block_out_channels")::add);
        n.put("mid_block", midBlock);
        return n;
    }

    public String toJson() {
        return toJsonNode().toString();
    }

    /** Parses {@link #toJson()}; a bad document is a {@link ModelFormatException} naming {@code source}. */
    public static AdapterConfig parse(String source, String json) {
        try {
            JsonNode n = JsonConfig.MAPPER.readTree(json);
            return new AdapterConfig(ConditionType.parse(n.path("condition").asText()),
                    n.path("condition_channels").asInt(1), n.path("downscale_factor").asInt(), ints(n.path("channels")),
                    n.path("res_blocks").asInt(), ints(n.path("unet_block_out_channels")),
                    n.path("mid_block").asBoolean(false));
        } catch (Exception e) {
            throw new ModelFormatException(source + ": not a valid mdx adapter config (" + e.getMessage() + ")");
        }
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asInt()));
        return out;
    }
}
