package dev.mdx.cli;

import picocli.CommandLine.Command;

/** The root command: only a list of subcommands. */
@Command(name = "mdx",
        mixinStandardHelpOptions = true,
        version = "mdx 0.1.0 (MobileDiffusion on the JVM)",
        description = {"Fast local text-to-image with MobileDiffusion-architecture and Stable-Diffusion-family models.",
            "Run 'mdx COMMAND --help' for a command's options."},
        commandListHeading = "%nCommands:%n",
        subcommands = {GenerateCommand.class, ConvertCommand.class, DataCommand.class, TrainCommand.class,
            EvalCommand.class, EvalEditCommand.class, InspectCommand.class, BenchCommand.class, ServeCommand.class,
            ServeLoadCommand.class, ExportCommand.class},
        usageHelpAutoWidth = true)
public final class MdxCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
