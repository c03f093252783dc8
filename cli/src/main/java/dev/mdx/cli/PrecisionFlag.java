package dev.mdx.cli;

import dev.mdx.MdxException;
import dev.mdx.tensor.Precision;

/** The --precision flag shared by the commands that run models. */
final class PrecisionFlag {
    private PrecisionFlag() {}

    /** The flag's precision (null for null), or a usage error naming the accepted values. */
    static Precision parse(String value) {
        try {
            return value == null ? null : Precision.parse(value);
        } catch (MdxException e) {
            throw new UsageException("--precision: " + e.getMessage());
        }
    }
}
