package dev.mdx.control;

import dev.mdx.MdxException;

/** An adapter or a condition map that does not fit the model or the request: the message says how. */
public final class AdapterMismatchException extends MdxException {
    public AdapterMismatchException(String message) {
        super(message);
    }
}
