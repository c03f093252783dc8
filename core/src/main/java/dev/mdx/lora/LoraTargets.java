package dev.mdx.lora;

import ai.djl.ndarray.types.Shape;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The layers of one model a LoRA can change: every {@link Linear} and {@link Conv2d} by its module path (its
 * state-dict key without {@code .weight}), and by its kohya name (the path with dots as underscores). A module
 * tree built from a config is enough: only names and shapes are read, so a request is checked before any weight
 * loads.
 */
public final class LoraTargets {
    /** One layer: its weight key and shape ((out, in) or (out, in / groups, k, k)). */
    public record Target(String path, Shape weightShape, boolean conv) {
        public String weightKey() {
            return path + ".weight";
        }

        public long outFeatures() {
            return weightShape.get(0);
        }

        /** Values per output row of the weight: in, or in / groups * k * k. */
        public long fanIn() {
            return weightShape.size() / weightShape.get(0);
        }
    }

    private final LoraPart part;
    private final Map<String, Target> byPath = new LinkedHashMap<>();
    private final Map<String, Target> byKohyaName = new LinkedHashMap<>();

    private LoraTargets(LoraPart part) {
        this.part = part;
    }

    /** The LoRA-able layers under {@code model}. */
    public static LoraTargets of(LoraPart part, Module model) {
        LoraTargets t = new LoraTargets(part);
        t.collect("", model);
        return t;
    }

    /** The layers of a UNet and of the text encoder beside it, by part, as {@link BoundLora#bind} takes them. */
    public static Map<LoraPart, LoraTargets> of(Module unet, Module textEncoder) {
        Map<LoraPart, LoraTargets> t = new EnumMap<>(LoraPart.class);
        t.put(LoraPart.UNET, of(LoraPart.UNET, unet));
        t.put(LoraPart.TEXT_ENCODER, of(LoraPart.TEXT_ENCODER, textEncoder));
        return t;
    }

    private void collect(String prefix, Module m) {
        if (m instanceof Linear || m instanceof Conv2d) {
            String path = prefix.substring(0, prefix.length() - 1);
            Shape shape = m.namedParameters().get("weight").shape();
            Target target = new Target(path, shape, m instanceof Conv2d);
            byPath.put(path, target);
            Target clash = byKohyaName.put(kohyaName(path), target);
            if (clash != null) {
                // two paths that differ only in '.' versus '_' cannot be told apart in kohya's names
                throw new IllegalStateException("modules " + clash.path() + " and " + path
                        + " have the same kohya name");
            }
            return;
        }
        m.children().forEach((name, child) -> collect(prefix + name + ".", child));
    }

    /** A module path as kohya-ss names it (after the {@code lora_unet_} / {@code lora_te_} prefix). */
    public static String kohyaName(String path) {
        return path.replace('.', '_');
    }

    public LoraPart part() {
        return part;
    }

    public Target byPath(String path) {
        return byPath.get(path);
    }

    public Target byKohyaName(String name) {
        return byKohyaName.get(name);
    }

    /** Every layer by module path, in the model's order. */
    public Map<String, Target> all() {
        return Collections.unmodifiableMap(byPath);
    }
}
