package dev.mdx.models;

import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.VaeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Architecture presets shipped as config.json files in the jar (dev/mdx/presets/NAME/COMPONENT.json): {@code unet},
 * {@code text_encoder}, {@code vae}, and optionally {@code vae_light}, the same VAE with a pruned decoder given by
 * the {@code decoder_*} keys under which a light decoder is stored in a VAE config.json.
 */
public final class ArchitecturePresets {
    /** Every preset name, in the order benchmarks report them. */
    public static final List<String> NAMES = List.of("mobilediffusion", "mobilediffusion-lite", "sd15",
            "mobilediffusion-tiny", "mobilediffusion-tiny-fashion");

    /** The component name of the light-decoder VAE config. */
    public static final String VAE_LIGHT = "vae_light";

    private ArchitecturePresets() {}

    public static UNetConfig unet(String name) {
        return UNetConfig.fromJson(json(name, "unet"));
    }

    public static VaeConfig vae(String name) {
        return VaeConfig.from(json(name, "vae"));
    }

    /** The VAE with the preset's light decoder; see {@link #has} with {@link #VAE_LIGHT}. */
    public static VaeConfig vaeLight(String name) {
        return VaeConfig.from(json(name, VAE_LIGHT));
    }

    public static ClipTextConfig textEncoder(String name) {
        return ClipTextConfig.from(json(name, "text_encoder"));
    }

    public static boolean has(String name, String component) {
        return ArchitecturePresets.class.getResource(resource(name, component)) != null;
    }

    public static JsonConfig json(String name, String component) {
        String res = resource(name, component);
        try (InputStream in = ArchitecturePresets.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new ModelFormatException("unknown preset '" + name + "' (no " + component
                        + " config); known presets: " + String.join(", ", NAMES));
            }
            return JsonConfig.parse("preset " + name + "/" + component, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ModelFormatException("cannot read preset " + res + ": " + e.getMessage(), e);
        }
    }

    private static String resource(String name, String component) {
        return "/dev/mdx/presets/" + name + "/" + component + ".json";
    }
}
