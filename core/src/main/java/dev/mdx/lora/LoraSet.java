package dev.mdx.lora;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * The LoRAs one request applies, each bound to the model that runs it, with its scale, in order. Weights fused for
 * one set serve every request with an equal {@link #key()}: the same files, unchanged, at the same scales in the
 * same order (the order of float additions decides the last bit). A LoRA at scale 0 is left out, so it leaves the
 * weights bit for bit as they are.
 */
public final class LoraSet {
    /**
     * One LoRA of the set.
     *
     * @param source where the request named it ("--lora" or the prompt's {@code <lora:NAME:SCALE>}), for messages
     */
    public record Entry(BoundLora lora, double scale, String source) {}

    public static final LoraSet EMPTY = new LoraSet(List.of());

    private final List<Entry> entries;
    private final List<Object> key;

    public LoraSet(List<Entry> entries) {
        this.entries = List.copyOf(entries);
        List<Object> k = new ArrayList<>();
        for (Entry e : active()) {
            k.add(List.of(e.lora().file().identity(), e.scale()));
        }
        this.key = List.copyOf(k);
    }

    public List<Entry> entries() {
        return entries;
    }

    /** The entries that change weights: a non-zero scale and at least one matched layer. */
    public List<Entry> active() {
        return entries.stream().filter(e -> e.scale() != 0 && !e.lora().deltas().isEmpty()).toList();
    }

    /** Equal for sets that fuse to bit-identical weights; the empty list for a set that changes nothing. */
    public List<Object> key() {
        return key;
    }

    /** True when the set changes no weight. */
    public boolean isEmpty() {
        return key.isEmpty();
    }

    /** 0.7 -> "0.7", 1.0 -> "1". */
    public static String number(double v) {
        return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }
}
