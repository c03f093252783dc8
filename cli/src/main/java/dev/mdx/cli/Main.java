package dev.mdx.cli;

import dev.mdx.MdxException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/** Entry point of the {@code mdx} command. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns the exit code; tests call this directly. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        CommandLine cli = new CommandLine(new MdxCommand());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler(Main::handle);
        cli.setParameterExceptionHandler(Main::handleBadFlags);
        // the last value of a repeated flag wins, so scripts can append overrides to a base command
        cli.setOverwrittenOptionsAllowed(true);
        return cli.execute(args);
    }

    /** An unknown flag or a value of the wrong type: one line and a pointer to --help, not the whole usage. */
    private static int handleBadFlags(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        String name = cmd.getCommandSpec().qualifiedName();
        err.println(name + ": " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try '" + name + " --help' for the options.");
        return ExitCodes.USAGE;
    }

    /** Errors a person can act on are one line on stderr and a non-zero exit, never a stack trace. */
    private static int handle(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        // "mdx data emoji", "mdx export onnx": the whole command path, as a person typed it
        String name = cmd.getCommandSpec().qualifiedName();
        if (e instanceof UsageException) {
            err.println(name + ": " + e.getMessage());
            err.println("Try '" + name + " --help' for the options.");
            return ExitCodes.USAGE;
        }
        if (e instanceof MdxException || e instanceof UncheckedIOException) {
            err.println(name + ": error: " + e.getMessage());
            return ExitCodes.FAILURE;
        }
        // anything else is a bug in mdx, not the user's fault: say so, and how to get the details for a report
        err.println(name + ": internal error (a bug in mdx): " + e);
        if (System.getenv("MDX_DEBUG") != null) {
            e.printStackTrace(err);
        } else {
            err.println("rerun with MDX_DEBUG=1 for the stack trace, and please report it");
        }
        return ExitCodes.INTERNAL;
    }
}
