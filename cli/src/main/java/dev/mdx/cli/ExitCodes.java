package dev.mdx.cli;

/** Exit codes of the mdx command. */
public final class ExitCodes {
    public static final int OK = 0;
    /** The input could not be used: a missing or corrupt model, an unwritable path, bad data. */
    public static final int FAILURE = 1;
    /** A bad flag or flag value. */
    public static final int USAGE = 2;
    /** A bug in mdx. */
    public static final int INTERNAL = 70;

    private ExitCodes() {}
}
