package dev.mdx.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One in-process run of the mdx command line: its exit code and what it wrote to stdout and stderr. */
record CliRun(int code, String out, String err) {
    static CliRun mdx(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliRun(code, out.toString(), err.toString());
    }
}
