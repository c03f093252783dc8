package dev.mdx.cli;

import dev.mdx.io.BundledModels;
import dev.mdx.train.TrainingStage;
import dev.mdx.train.TrainingStages;
import dev.mdx.control.ConditionType;
import dev.mdx.train.unet.AdapterTraining;
import dev.mdx.train.unet.LoraTraining;
import dev.mdx.train.unet.UNetTraining;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Runs a training stage; resumable, checkpoints atomically (docs/TRAINING.md). */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model stage from a JSON config. Ctrl-C stops after the current step and writes a "
                + "checkpoint; --resume continues exactly where it stopped.", "Stages: see STAGE below."})
public final class TrainCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STAGE", description = "What to train: clip, vae, unet, distill, ufogen, lora, adapter, classifier.")
    String stage;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "The stage's JSON config (stages lora and adapter may give --base and --data instead).")
    Path config;

    @Option(names = "--base", paramLabel = "MODEL", description = "Stages lora and adapter: the frozen base model (a bundled model"
            + " name or a pipeline folder).")
    String base;

    @Option(names = "--data", paramLabel = "DIR", description = "Stages lora and adapter: the captioned data set (mdx data).")
    Path data;

    @Option(names = "--rank", paramLabel = "R", description = "Stage lora: the LoRA's rank (default 4).")
    Integer rank;

    @Option(names = "--condition", paramLabel = "TYPE", description = "Stage adapter: the condition it learns, canny"
            + " or mask.")
    String condition;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Run folder: log, checkpoints, export.")
    Path out;

    @Option(names = "--resume", description = "Continue from the newest checkpoint in --out (or start if none).")
    boolean resume;

    @Option(names = "--export-checkpoint", paramLabel = "STEP", description = "Stage unet: train nothing; write the"
            + " pipeline of checkpoint STEP (or 'latest') of the run in --out to OUT/pipeline-step-N, its UNet from the"
            + " checkpoint's EMA weights, to measure an unfinished run.")
    String exportCheckpoint;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Engine threads (default: all cores; use 1 when the machine is shared).")
    Integer threads;

    @Override
    public void run() {
        TrainingStage s = TrainingStages.find(stage).orElseThrow(() ->
                new UsageException("unknown stage '" + stage + "'; stages: " + TrainingStages.names()));
        boolean adapterStage = s.name().equals("adapter");
        boolean loraFlags = base != null || data != null || rank != null || condition != null;
        if (loraFlags && !s.name().equals("lora") && !adapterStage) {
            throw new UsageException("--base and --data are for stages lora and adapter; stage " + s.name()
                    + " reads its config (-c)");
        }
        if (rank != null && !s.name().equals("lora") || condition != null && !adapterStage) {
            throw new UsageException("--rank is for stage lora and --condition for stage adapter");
        }
        if (config == null && !loraFlags) {
            throw new UsageException("give the stage's config with -c/--config FILE"
                    + (s.name().equals("lora") ? " (or --base MODEL --data DIR [--rank R])"
                    : adapterStage ? " (or --base MODEL --data DIR --condition canny|mask)" : ""));
        }
        if (config != null && !Files.isRegularFile(config)) {
            throw new UsageException("config file " + config + " not found");
        }
        Path stageConfig = config;
        if (loraFlags) {
            if (config == null && (base == null || data == null)) {
                throw new UsageException("stage " + s.name() + " without -c needs both --base MODEL and --data DIR");
            }
            Path baseDir = base == null ? null : BundledModels.resolve(base);
            stageConfig = adapterStage ? AdapterTraining.writeConfig(config, baseDir, data, conditionType(), out)
                    : LoraTraining.writeConfig(config, baseDir, data, rank, out);
        }
        ThreadsFlag.apply(threads);
        PrintStream log = System.out;
        if (exportCheckpoint != null) {
            if (!s.name().equals("unet") || resume || loraFlags) {
                throw new UsageException("--export-checkpoint is for stage unet, with -c and -o only");
            }
            UNetTraining.exportCheckpoint(stageConfig, out, checkpointStep(), log);
            return;
        }
        TrainingStage.Outcome r = s.run(stageConfig, out, resume, log);
        // a resumed run that was already complete trains no step and has no loss to report
        String loss = Double.isNaN(r.lastLoss()) ? "" : String.format(Locale.ROOT, ", last loss %.5f", r.lastLoss());
        log.printf("%s at step %d%s%n", r.stopped() ? "stopped" : "finished", r.step(), loss);
    }

    private long checkpointStep() {
        if (exportCheckpoint.equals("latest")) {
            return -1;
        }
        try {
            long step = Long.parseLong(exportCheckpoint);
            if (step >= 0) {
                return step;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("--export-checkpoint: expected a step number or 'latest', got '" + exportCheckpoint
                + "'");
    }

    private ConditionType conditionType() {
        try {
            return condition == null ? null : ConditionType.parse(condition);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--condition: " + e.getMessage());
        }
    }
}
