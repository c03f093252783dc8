package dev.mdx.train;

import dev.mdx.tensor.Scopes;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.MdxException;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.io.StateDictMismatchException;
import dev.mdx.nn.Module;
import dev.mdx.nn.Parameter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * The training loop shared by every stage: per step, a batch from the source, the loss under the gradient
 * collector, clipping by global norm, an AdamW update, an EMA update, a CSV row and a progress line; every
 * {@code checkpointing_steps} and at the end an atomic checkpoint; every {@code sample_every} steps and at the end
 * the hook. Ctrl-C (or SIGTERM) asks the loop to stop after the current step and write a checkpoint.
 *
 * <p>All randomness comes from one {@link Rng} saved in checkpoints, and every array of a step lives in a scope
 * closed after it, so a resumed run is bit-identical to an uninterrupted one and native memory stays flat.
 */
public final class Trainer<B> implements AutoCloseable {
    public static final String CONFIG_FILE = "training_config.json";
    static final long SAMPLE_STREAM = 0x53414d504c45L;
    private static final long SHUTDOWN_WAIT_SECONDS = 300;

    /** How a run ended. */
    public record Result(long step, boolean stopped, Optional<Checkpoints.Checkpoint> checkpoint, double lastLoss) {}

    private final Module model;
    private final LossFunction<B> lossFunction;
    private final BatchSource<B> data;
    private final TrainingConfig config;
    private final Path outDir;
    private final Predicate<String> trainableKeys;
    private final List<TrainingPhase> phases;
    private final TrainingPhase.Schedule phaseSchedule;
    private final TrainingHook hook;
    private final PrintStream out;
    private final boolean terminal;
    private final boolean installShutdownHook;
    private final AtomicBoolean stopRequested = new AtomicBoolean();

    private NDManager root;
    private Map<String, Parameter> trainable;
    /** Per phase: its parameters and its optimizer (one phase unless the builder set several). */
    private List<Map<String, Parameter>> phaseParams;
    private List<AdamW> optimizers;
    private Ema ema;
    private Rng rng;
    private long step;
    private DataPosition position = DataPosition.START;
    private double elapsedBefore;

    private Trainer(Builder<B> b) {
        this.model = b.model;
        this.lossFunction = b.lossFunction;
        this.data = b.data;
        this.config = b.config;
        this.outDir = b.outDir;
        this.trainableKeys = b.trainableKeys;
        this.phases = b.phases;
        this.phaseSchedule = b.phaseSchedule;
        this.hook = b.hook;
        this.out = b.out;
        this.terminal = b.terminal;
        this.installShutdownHook = b.installShutdownHook;
    }

    public static <B> Builder<B> builder(Module model, LossFunction<B> loss, BatchSource<B> data,
            TrainingConfig config, Path outDir) {
        return new Builder<>(model, loss, data, config, outDir);
    }

    /** Optional parts of a trainer. */
    public static final class Builder<B> {
        private final Module model;
        private final LossFunction<B> lossFunction;
        private final BatchSource<B> data;
        private final TrainingConfig config;
        private final Path outDir;
        private Predicate<String> trainableKeys = k -> true;
        private List<TrainingPhase> phases;
        private TrainingPhase.Schedule phaseSchedule;
        private TrainingHook hook;
        private PrintStream out = System.out;
        private boolean terminal = ProgressLine.stdoutIsTerminal();
        private boolean installShutdownHook = true;

        private Builder(Module model, LossFunction<B> loss, BatchSource<B> data, TrainingConfig config,
                Path outDir) {
            this.model = model;
            this.lossFunction = loss;
            this.data = data;
            this.config = config;
            this.outDir = outDir;
        }

        /** Which parameter keys are trained (all by default); the others are frozen and never saved as EMA. */
        public Builder<B> trainable(Predicate<String> keys) {
            this.trainableKeys = keys;
            return this;
        }

        /**
         * Trains the parameters in phases (see {@link TrainingPhase}): step s updates only phase
         * {@code schedule.phaseAt(s)}, which the loss function reads from {@link StepContext#phase()}. Replaces
         * {@link #trainable}: the trained keys are the union of the phases', which must not overlap.
         */
        public Builder<B> phases(List<TrainingPhase> phases, TrainingPhase.Schedule schedule) {
            if (phases.isEmpty()) {
                throw new IllegalArgumentException("no phases");
            }
            this.phases = List.copyOf(phases);
            this.phaseSchedule = schedule;
            return this;
        }

        public Builder<B> hook(TrainingHook hook) {
            this.hook = hook;
            return this;
        }

        /** Where the progress line goes, and whether it is an interactive terminal. */
        public Builder<B> progress(PrintStream out, boolean terminal) {
            this.out = out;
            this.terminal = terminal;
            return this;
        }

        /** Whether Ctrl-C / SIGTERM stops the run with a checkpoint (default true). */
        public Builder<B> shutdownHook(boolean install) {
            this.installShutdownHook = install;
            return this;
        }

        public Trainer<B> build() {
            return new Trainer<>(this);
        }
    }

    /**
     * Trains until {@code max_train_steps} or a stop request. With {@code resume}, continues from the newest
     * complete checkpoint in the output folder (starting fresh if there is none); without it, refuses a folder
     * that already holds checkpoints.
     */
    public Result run(boolean resume) {
        if (root != null) {
            throw new IllegalStateException("a Trainer runs once; build a new one to continue");
        }
        Checkpoints checkpoints = new Checkpoints(outDir, config.checkpointsTotalLimit());
        int removed = checkpoints.removePartial();
        if (removed > 0) {
            out.println("removed " + removed + " incomplete checkpoint folder(s) left by an interrupted write");
        }
        Optional<Checkpoints.Checkpoint> latest = checkpoints.latest();
        if (!resume && latest.isPresent()) {
            throw new MdxException(outDir + " already holds checkpoints (newest: step "
                    + latest.get().step() + "); resume to continue that run, or choose another output folder");
        }
        Map<String, Parameter> all = model.namedParameters();
        List<String> unset = all.entrySet().stream().filter(e -> !e.getValue().isSet()).map(Map.Entry::getKey)
                .toList();
        if (!unset.isEmpty()) {
            throw new IllegalStateException("the model has parameters that were never loaded or initialised: "
                    + unset);
        }
        List<TrainingPhase> groups = phases != null ? phases
                : List.of(new TrainingPhase("model", trainableKeys, config.adamW(), 1.0));
        trainable = new LinkedHashMap<>();
        phaseParams = new ArrayList<>();
        for (TrainingPhase phase : groups) {
            Map<String, Parameter> mine = new LinkedHashMap<>();
            all.forEach((k, p) -> {
                if (phase.keys().test(k)) {
                    if (trainable.containsKey(k)) {
                        throw new IllegalStateException("parameter " + k + " belongs to two phases");
                    }
                    mine.put(k, p);
                    trainable.put(k, p);
                }
            });
            if (mine.isEmpty()) {
                throw new IllegalStateException(groups.size() == 1 ? "no parameter is trainable"
                        : "phase " + phase.name() + " has no parameters");
            }
            phaseParams.add(mine);
        }
        root = NDManager.newBaseManager();
        optimizers = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            optimizers.add(new AdamW(groups.get(i).adamW(), phaseParams.get(i), root));
        }
        ema = config.useEma() ? new Ema(config.ema(), phaseParams.get(0), root) : null;
        rng = new Rng(config.seed());
        if (resume && latest.isPresent()) {
            restore(latest.get());
            out.println("resumed from " + latest.get().dir() + " at step " + step);
        } else if (resume) {
            out.println("no checkpoint in " + checkpoints.root() + ": starting a new run");
        }
        writeConfigCopy();
        return loop(checkpoints, latest.filter(c -> resume));
    }

    private Result loop(Checkpoints checkpoints, Optional<Checkpoints.Checkpoint> resumedFrom) {
        CountDownLatch finished = new CountDownLatch(1);
        Thread shutdown = new Thread(() -> {
            stopRequested.set(true);
            try {
                finished.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "mdx-trainer-stop");
        if (installShutdownHook) {
            Runtime.getRuntime().addShutdownHook(shutdown);
        }
        LrSchedule schedule = config.schedule();
        ProgressLine progress = new ProgressLine(out, terminal, config.logEvery(), step, config.maxTrainSteps());
        Optional<Checkpoints.Checkpoint> last = resumedFrom;
        double lastLoss = Double.NaN;
        long startNanos = System.nanoTime();
        try (TrainingLog log = TrainingLog.open(outDir, step)) {
            while (step < config.maxTrainSteps() && !stopRequested.get()) {
                double lr = schedule.at(step);
                double[] lossAndNorm = trainStep(lr);
                lastLoss = lossAndNorm[0];
                double seconds = elapsedBefore + (System.nanoTime() - startNanos) / 1e9;
                log.append(step, lossAndNorm[0], lr, lossAndNorm[1], seconds);
                progress.update(step, lossAndNorm[0], lr);
                if (step % config.logEvery() == 0) {
                    log.flush();
                }
                boolean end = step == config.maxTrainSteps();
                if (end || step % config.checkpointingSteps() == 0) {
                    log.flush();
                    last = Optional.of(saveCheckpoint(checkpoints, seconds));
                }
                if (hook != null && !stopRequested.get()
                        && (end || config.sampleEvery() > 0 && step % config.sampleEvery() == 0)) {
                    runHook();
                }
            }
            boolean stopped = step < config.maxTrainSteps();
            if (last.isEmpty() || last.get().step() != step) {
                log.flush();
                last = Optional.of(saveCheckpoint(checkpoints, elapsedBefore + (System.nanoTime() - startNanos) / 1e9));
            }
            progress.finish((stopped ? "stopped at step " : "finished at step ") + step + "; checkpoint "
                    + last.get().dir());
            return new Result(step, stopped, last, lastLoss);
        } finally {
            finished.countDown();
            if (installShutdownHook) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdown);
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is already exiting; the hook is waiting on the latch released above
                }
            }
        }
    }

    private int phaseAt(long s) {
        if (phaseSchedule == null) {
            return 0;
        }
        int phase = phaseSchedule.phaseAt(s);
        if (phase < 0 || phase >= phaseParams.size()) {
            throw new IllegalStateException("the phase schedule names phase " + phase + " at step " + s + " but there"
                    + " are " + phaseParams.size());
        }
        return phase;
    }

    private TrainingPhase phase(int index) {
        return phases == null ? null : phases.get(index);
    }

    /** One optimizer step of the phase scheduled for it; returns {loss, gradient norm before clipping}. */
    private double[] trainStep(double scheduledLr) {
        int phase = phaseAt(step);
        Map<String, Parameter> active = phaseParams.get(phase);
        double lr = phases == null ? scheduledLr : scheduledLr * phase(phase).lrScale();
        try (NDManager scope = root.newSubManager()) {
            for (Parameter p : active.values()) {
                if (!p.get().hasGradient()) {
                    p.get().setRequiresGradient(true);
                }
            }
            BatchSource.Next<B> next = data.next(scope, position, rng);
            NDArray loss;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                loss = lossFunction.loss(next.batch(), new StepContext(step, scope, rng, lr, phase));
                if (loss.getShape().size() != 1) {
                    throw new IllegalArgumentException("the loss must be a scalar, got shape " + loss.getShape());
                }
                collector.backward(loss);
            }
            double lossValue = loss.toType(DataType.FLOAT64, false).getDouble();
            if (!Double.isFinite(lossValue)) {
                throw GradientClipping.diverged("loss is " + lossValue + " at step " + (step + 1));
            }
            Map<String, NDArray> grads = new LinkedHashMap<>();
            active.forEach((key, p) -> {
                // DJL wraps the gradient in a new array owned by the parameter's long-lived manager: move it.
                grads.put(key, Scopes.own(scope, p.get().getGradient()));
            });
            double norm = GradientClipping.clipByGlobalNorm(grads.values(), config.maxGradNorm());
            optimizers.get(phase).step(active, grads, lr, scope);
            if (ema != null && phase == 0) {
                ema.update(active, scope);
            }
            position = next.position();
            step++;
            return new double[] {lossValue, norm};
        }
    }

    private void runHook() {
        try (NDManager scope = root.newSubManager()) {
            hook.onStep(new HookContext(step, model, phaseParams.get(0), ema, outDir, scope,
                    Rng.derived(config.seed(), SAMPLE_STREAM, step)));
        }
    }

    private Checkpoints.Checkpoint saveCheckpoint(Checkpoints checkpoints, double seconds) {
        TrainerState state = new TrainerState(step, position, rng.state(), seconds, config.document());
        return checkpoints.write(step, dir -> {
            Map<String, String> meta = Map.of("step", Long.toString(step));
            Map<String, NDArray> raw = new LinkedHashMap<>();
            model.namedParameters().forEach((k, p) -> raw.put(k, p.get()));
            SafeTensorsWriter.write(dir.resolve(Checkpoints.MODEL), raw, meta);
            if (ema != null) {
                // A complete state dict: EMA values for trained keys, raw values for frozen ones.
                Map<String, NDArray> averaged = new LinkedHashMap<>(raw);
                averaged.putAll(ema.shadows());
                SafeTensorsWriter.write(dir.resolve(Checkpoints.EMA), averaged,
                        Map.of("step", Long.toString(step), Ema.STEP_KEY, Long.toString(ema.optimizationStep())));
            }
            for (int i = 0; i < optimizers.size(); i++) {
                optimizers.get(i).save(optimizerFile(dir, i));
            }
            state.write(dir.resolve(TrainerState.FILE));
        });
    }

    /** optimizer.safetensors for phase 0, optimizer-NAME.safetensors for the others. */
    private Path optimizerFile(Path dir, int phase) {
        return phase == 0 ? dir.resolve(Checkpoints.OPTIMIZER)
                : dir.resolve("optimizer-" + phase(phase).name() + ".safetensors");
    }

    private void restore(Checkpoints.Checkpoint c) {
        TrainerState state = TrainerState.read(c.state());
        loadWeights(c.model());
        for (int i = 0; i < optimizers.size(); i++) {
            AdamW optimizer = optimizers.get(i);
            optimizer.load(optimizerFile(c.dir(), i));
            long expected = phaseSchedule == null ? state.step() : phaseSchedule.count(i, state.step());
            if (optimizer.stepCount() != expected) {
                throw new ModelFormatException(c.dir() + ": optimizer state" + (phases == null ? ""
                        : " of phase " + phase(i).name()) + " is at step " + optimizer.stepCount()
                        + " but the checkpoint at step " + state.step() + " implies " + expected);
            }
        }
        if (ema != null) {
            if (Files.isRegularFile(c.ema())) {
                ema.load(c.ema());
            } else {
                out.println("note: " + c.dir() + " has no EMA weights; the EMA starts from the resumed weights");
            }
        }
        step = state.step();
        position = state.position();
        rng = Rng.restore(state.rngState());
        elapsedBefore = state.elapsedSeconds();
        List<String> changed = changedTrainerKeys(state.config());
        if (!changed.isEmpty()) {
            out.println("note: trainer settings changed since the checkpoint: " + String.join(", ", changed));
        }
    }

    /** Replaces every parameter value by the one in {@code file}, in the manager of the value it replaces. */
    private void loadWeights(Path file) {
        Map<String, Parameter> all = model.namedParameters();
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            List<String> missing = new ArrayList<>();
            List<String> misShaped = new ArrayList<>();
            all.forEach((k, p) -> {
                if (!st.contains(k)) {
                    missing.add(k);
                } else if (!st.info(k).shape().equals(p.shape())) {
                    misShaped.add(k + ": file has " + st.info(k).shape() + ", model expects " + p.shape());
                }
            });
            List<String> unexpected = st.tensors().keySet().stream().filter(k -> !all.containsKey(k)).toList();
            if (!missing.isEmpty() || !unexpected.isEmpty() || !misShaped.isEmpty()) {
                throw new StateDictMismatchException(file.toString(), missing, unexpected, misShaped);
            }
            all.forEach((k, p) -> {
                NDArray old = p.get();
                p.set(st.load(k, old.getManager(), DataType.FLOAT32));
                old.close();
            });
        }
    }

    private List<String> changedTrainerKeys(JsonNode saved) {
        JsonNode before = saved == null ? null : saved.get(TrainingConfig.SECTION);
        JsonNode now = config.document().get(TrainingConfig.SECTION);
        List<String> changed = new ArrayList<>();
        if (before == null || now == null) {
            return changed;
        }
        for (Iterator<String> it = now.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!now.get(k).equals(before.get(k))) {
                changed.add(k);
            }
        }
        for (Iterator<String> it = before.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!now.has(k)) {
                changed.add(k);
            }
        }
        return changed;
    }

    private void writeConfigCopy() {
        try {
            Files.createDirectories(outDir);
            AtomicFiles.writeBytes(outDir.resolve(CONFIG_FILE),
                    (JsonConfig.pretty(config.document()) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + outDir.resolve(CONFIG_FILE) + ": " + e.getMessage(), e);
        }
    }

    /** Asks the loop to stop after the current step (what Ctrl-C does). */
    public void requestStop() {
        stopRequested.set(true);
    }

    public long step() {
        return step;
    }

    public DataPosition position() {
        return position;
    }

    public Rng rng() {
        return rng;
    }

    /** The optimizer of phase 0 (the only one without phases). */
    public AdamW optimizer() {
        return optimizers.get(0);
    }

    /** The optimizer of a phase, in the order given to the builder. */
    public AdamW optimizer(int phase) {
        return optimizers.get(phase);
    }

    /** The EMA of the trained weights (of phase 0 with phases), or null when {@code use_ema} is false. */
    public Ema ema() {
        return ema;
    }

    public Map<String, Parameter> trainable() {
        return trainable;
    }

    /** The managers of the optimizer, EMA and step scopes (for memory checks). */
    NDManager manager() {
        return root;
    }

    /** Frees the optimizer and EMA state; the model's weights stay with their owner. */
    @Override
    public void close() {
        if (root != null) {
            root.close();
        }
    }
}
