package dev.mdx.train;

import java.io.PrintStream;
import java.nio.file.Path;

/** One {@code mdx train STAGE}: reads its JSON config, trains into an output folder, resumable. */
public interface TrainingStage {
    String name();

    String description();

    Outcome run(Path configFile, Path outDir, boolean resume, PrintStream out);

    /** Where a stage ended. */
    record Outcome(long step, boolean stopped, double lastLoss) {}

    static TrainingStage of(String name, String description, Runner runner) {
        return new TrainingStage() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String description() {
                return description;
            }

            @Override
            public Outcome run(Path configFile, Path outDir, boolean resume, PrintStream out) {
                return runner.run(configFile, outDir, resume, out);
            }
        };
    }

    /** The body of a stage. */
    @FunctionalInterface
    interface Runner {
        Outcome run(Path configFile, Path outDir, boolean resume, PrintStream out);
    }
}
