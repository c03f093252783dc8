package dev.mdx.cli;

import dev.mdx.train.vae.VaeStageConfig;
import dev.mdx.train.vae.VaeTraining;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Training stages; each reads one config file and writes checkpoints and results into an output folder. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train model components (see docs/TRAINING.md).",
        subcommands = {TrainCommand.Vae.class})
public final class TrainCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "vae", mixinStandardHelpOptions = true,
            description = {"Train an AutoencoderKL (stage \"vae\") or a light decoder against a frozen encoder "
                    + "(stage \"light_decoder\"), then export OUT/vae/ (diffusers layout, measured scaling_factor, "
                    + "fp16 when it keeps PSNR) and OUT/report.json.",
                "Ctrl-C stops with a checkpoint; --resume continues from the newest one."})
    static final class Vae implements Runnable {
        @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
                description = "Training config (JSON with trainer, stage, vae or frozen_vae, data, loss, export).")
        Path config;

        @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR",
                description = "Run folder: checkpoints, logs, the exported vae/ and report.json.")
        Path out;

        @Option(names = "--data", paramLabel = "DIR", description = "Data set folder (overrides data.dataset).")
        Path data;

        @Option(names = "--resume", description = "Continue from the newest checkpoint in OUT.")
        boolean resume;

        @Option(names = "--export-only", description = "Skip training; export the newest checkpoint in OUT.")
        boolean exportOnly;

        @Override
        public void run() {
            VaeStageConfig cfg = VaeStageConfig.read(config);
            if (data != null) {
                cfg = cfg.withDataset(data);
            }
            if (exportOnly) {
                VaeTraining.export(cfg, out, System.out);
            } else {
                VaeTraining.trainAndExport(cfg, out, resume, System.out);
            }
        }
    }
}
