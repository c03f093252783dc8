package dev.mdx.export;

import dev.mdx.MdxException;

/** A model uses something the ONNX exporter does not emit; the message names it. */
public final class UnsupportedExportException extends MdxException {
    public UnsupportedExportException(String what) {
        super("cannot export to ONNX: " + what + " is not supported by mdx's exporter (see docs/EXPORT.md)");
    }
}
