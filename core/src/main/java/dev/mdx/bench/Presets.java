package dev.mdx.bench;

import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.VaeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Architecture presets shipped as config.json files in the jar (dev/mdx/presets/NAME/COMPONENT.json). */
public final class Presets {
    /** Every preset name, in the order benchmarks report them. */
    public static final List<String> NAMES = List.of("sd15", "mobilediffusion-tiny", "mobilediffusion-tiny-fashion");

    private Presets() {}

    public static UNetConfig unet(String name) {
        return UNetConfig.fromJson(json(name, "unet"));
    }

    public static VaeConfig vae(String name) {
        return VaeConfig.from(json(name, "vae"));
    }

    public static ClipTextConfig textEncoder(String name) {
        return ClipTextConfig.from(json(name, "text_encoder"));
    }

    public static boolean has(String name, String component) {
        return Presets.class.getResource(resource(name, component)) != null;
    }

    public static JsonConfig json(String name, String component) {
        String res = resource(name, component);
        try (InputStream in = Presets.class.getResourceAsStream(res)) {
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
