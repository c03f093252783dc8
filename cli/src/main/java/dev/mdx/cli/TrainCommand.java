package dev.mdx.cli;

import dev.mdx.train.TrainingStage;
import dev.mdx.train.TrainingStages;
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

    @Parameters(index = "0", paramLabel = "STAGE", description = "What to train: clip, vae, unet, classifier.")
    String stage;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The stage's JSON config.")
    Path config;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Run folder: log, checkpoints, export.")
    Path out;

    @Option(names = "--resume", description = "Continue from the newest checkpoint in --out (or start if none).")
    boolean resume;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Engine threads (default: all cores; use 1 when the machine is shared).")
    Integer threads;

    @Override
    public void run() {
        TrainingStage s = TrainingStages.find(stage).orElseThrow(() ->
                new UsageException("unknown stage '" + stage + "'; stages: " + TrainingStages.names()));
        if (!Files.isRegularFile(config)) {
            throw new UsageException("config file " + config + " not found");
        }
        ThreadsFlag.apply(threads);
        PrintStream log = System.out;
        TrainingStage.Outcome r = s.run(config, out, resume, log);
        // a resumed run that was already complete trains no step and has no loss to report
        String loss = Double.isNaN(r.lastLoss()) ? "" : String.format(Locale.ROOT, ", last loss %.5f", r.lastLoss());
        log.printf("%s at step %d%s%n", r.stopped() ? "stopped" : "finished", r.step(), loss);
    }
}
