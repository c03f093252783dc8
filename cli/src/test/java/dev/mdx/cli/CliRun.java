package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One in-process run of the mdx command line: its exit code and what it wrote to stdout and stderr. */
record CliRun(int code, String out, String err) {
    /**
     * Asserts a user error: exit {@code code}, every fragment on stderr, and nothing that looks like a stack trace or
     * an internal error.
     */
    void assertUserError(int expectedCode, String... fragments) {
        assertEquals(expectedCode, code, "exit code; stderr: " + err);
        for (String f : fragments) {
            assertTrue(err.contains(f), "stderr lacks '" + f + "':\n" + err);
        }
        assertFalse(err.contains("internal error") || err.contains("\tat ") || err.contains("Exception"), err);
    }

    /**
     * Asserts a short user error ({@link #assertUserError}): at most two lines on stderr (the message and a pointer
     * to --help), not a usage dump.
     */
    static void assertShortError(CliRun r, int expectedCode, String... fragments) {
        r.assertUserError(expectedCode, fragments);
        assertTrue(r.err().lines().count() <= 2, "one line (and a --help pointer):\n" + r.err());
    }

    /** {@code mdx generate -m MODEL -p PROMPT --steps 1 -o OUT} plus {@code extra} flags. */
    static CliRun generate(java.nio.file.Path model, java.nio.file.Path out, String prompt, String... extra) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("generate", "-m", model.toString(),
                "-p", prompt, "--steps", "1", "-o", out.toString()));
        args.addAll(java.util.List.of(extra));
        return mdx(args.toArray(String[]::new));
    }

    /** Deletes a temporary folder and everything in it. */
    static void deleteTree(java.nio.file.Path dir) throws java.io.IOException {
        try (java.util.stream.Stream<java.nio.file.Path> walk = java.nio.file.Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static CliRun mdx(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliRun(code, out.toString(), err.toString());
    }
}
