package dev.mdx;

/**
 * An error caused by the input rather than by mdx: a missing or corrupt file, a bad config value, unusable data.
 * The message is written for the person who supplied the input; the CLI prints it alone, without a stack trace.
 */
public class MdxException extends RuntimeException {
    public MdxException(String message) {
        super(message);
    }

    public MdxException(String message, Throwable cause) {
        super(message, cause);
    }
}
