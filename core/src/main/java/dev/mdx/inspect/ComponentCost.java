package dev.mdx.inspect;

import java.util.List;

/**
 * The analytic cost of one model component (UNet, text encoder, VAE encoder or decoder) for one forward pass.
 *
 * @param component the component's name
 * @param input the input the FLOPs are for, e.g. "(1, 8, 64, 64) + context (1, 77, 768)"
 * @param parts per block kind, in the order the forward pass first reaches them
 */
public record ComponentCost(String component, String input, List<PartCost> parts) {
    public ComponentCost {
        parts = List.copyOf(parts);
    }

    public long params() {
        return parts.stream().mapToLong(PartCost::params).sum();
    }

    public long flops() {
        return parts.stream().mapToLong(PartCost::flops).sum();
    }

    public long convFlops() {
        return parts.stream().mapToLong(PartCost::convFlops).sum();
    }

    public long linearFlops() {
        return parts.stream().mapToLong(PartCost::linearFlops).sum();
    }

    public long attentionFlops() {
        return parts.stream().mapToLong(PartCost::attentionFlops).sum();
    }

    /** The part of that name; throws if the component has none. */
    public PartCost part(String name) {
        return parts.stream().filter(p -> p.part().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(component + " has no part '" + name + "'"));
    }
}
