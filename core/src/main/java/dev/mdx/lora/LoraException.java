package dev.mdx.lora;

import dev.mdx.MdxException;

/** A LoRA file that cannot be applied as it is; the message names the file and what is wrong with it. */
public class LoraException extends MdxException {
    public LoraException(String message) {
        super(message);
    }

    public LoraException(String message, Throwable cause) {
        super(message, cause);
    }
}
