package dev.mdx.io;

/** A model file or folder that cannot be used as it is; the message is written for the person who supplied it. */
public class ModelFormatException extends dev.mdx.MdxException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
