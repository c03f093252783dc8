package dev.mdx.pipeline;

import dev.mdx.MdxException;

/**
 * A run produced NaN or infinite values, which would decode to a black or garbage image: the weights hold
 * non-finite values, or the sampler diverged. Thrown instead of returning an image.
 */
public final class NonFiniteValuesException extends MdxException {
    public NonFiniteValuesException(String message) {
        super(message);
    }
}
