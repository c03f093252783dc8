package dev.mdx.cli;

/** A flag value that cannot be used; reported with a pointer to --help. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
