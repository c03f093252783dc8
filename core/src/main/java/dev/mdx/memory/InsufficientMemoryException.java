package dev.mdx.memory;

import dev.mdx.MdxException;
import dev.mdx.vae.VaeTiling;
import java.util.Optional;

/**
 * A request whose estimated peak memory exceeds what the machine can give: thrown before anything is allocated.
 * The message has the estimate, the limit and what would fit; the fields let a caller act on it (retry with
 * {@link #tilingThatFits()}).
 */
public final class InsufficientMemoryException extends MdxException {
    private final MemoryEstimate estimate;
    private final MemoryLimit limit;
    private final VaeTiling tilingThatFits;

    InsufficientMemoryException(String message, MemoryEstimate estimate, MemoryLimit limit, VaeTiling tilingThatFits) {
        super(message);
        this.estimate = estimate;
        this.limit = limit;
        this.tilingThatFits = tilingThatFits;
    }

    public MemoryEstimate estimate() {
        return estimate;
    }

    public MemoryLimit limit() {
        return limit;
    }

    /** A VAE tiling with which the same request fits, when only the decode was too large. */
    public Optional<VaeTiling> tilingThatFits() {
        return Optional.ofNullable(tilingThatFits);
    }
}
