package dev.mdx.io;

import java.util.function.Function;

/** Looks up an enum constant by the name files or the command line spell it with. */
public final class EnumNames {
    private EnumNames() {}

    /** The constant whose {@code name} equals {@code wanted} exactly, or null when none does. */
    public static <E extends Enum<E>> E find(E[] values, Function<E, String> name, String wanted) {
        for (E e : values) {
            if (name.apply(e).equals(wanted)) {
                return e;
            }
        }
        return null;
    }
}
