package dev.mdx.serve;

import dev.mdx.io.PngWriter;
import dev.mdx.pipeline.BatchedGeneration;
import dev.mdx.pipeline.GenerationParameters;
import dev.mdx.pipeline.GenerationPlan;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.StepEvent;
import dev.mdx.pipeline.TextToImagePipeline;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * One admitted request: its plan, deadline and listener, its progress for {@code /sdapi/v1/progress}, the images
 * finished so far and the future its HTTP handler waits on. Made by the handler, run by a {@link GenerationQueue}
 * worker, alone or in a batch with others.
 */
final class Job {
    /** Why a job was stopped before it finished. */
    enum Stop { CLIENT_GONE, INTERRUPTED, TIMEOUT, SHUTDOWN }

    /** What a finished job hands its handler. */
    /**
     * What a finished job hands its handler; {@code interrupted} when POST /sdapi/v1/interrupt stopped it after
     * some of its images were finished (those are the images).
     */
    record Result(List<byte[]> pngs, GenerationParameters parameters, List<String> warnings,
            List<String> notes, double queueMs, double runMs, int batchImages, boolean interrupted) {}

    /** Hears a job's progress on the worker thread; must not block (a stream hands events to its own thread). */
    interface Listener {
        Listener NONE = new Listener() { };

        /** Whether step events should carry a decoded preview. */
        default boolean wantsPreviews() {
            return false;
        }

        /** A step finished; {@code previewPng} is null when no preview was made for this step. */
        default void onStep(Job job, StepEvent event, byte[] previewPng) { }

        default void onImage(Job job, int index, RgbImage image, GenerationParameters used, byte[] png) { }
    }

    private static final AtomicLong IDS = new AtomicLong();

    final long id = IDS.incrementAndGet();
    final String model;
    final TextToImagePipeline pipeline;
    final GenerationPlan plan;
    final Object batchKey;
    final long submittedNanos = System.nanoTime();
    final long deadlineNanos;
    final Listener listener;
    /** Whether someone polls /sdapi/v1/progress, which shows previews of running jobs. */
    private final BooleanSupplier progressWatched;
    final CompletableFuture<Result> done = new CompletableFuture<>();
    /** PNGs (with their parameters chunk) of the images finished so far. */
    private final List<byte[]> pngs = new ArrayList<>();
    volatile Stop stop;
    /** Jobs queued or running ahead of this one when it was admitted. */
    volatile int ahead;
    volatile long startedNanos;
    /** Steps finished over the whole job and their total, for progress. */
    volatile int completedSteps;
    final int totalSteps;
    volatile byte[] latestPreview;

    Job(String model, TextToImagePipeline pipeline, GenerationPlan plan, long timeoutNanos, Listener listener,
            BooleanSupplier progressWatched) {
        this.model = model;
        this.pipeline = pipeline;
        this.plan = plan;
        this.batchKey = BatchedGeneration.batchKey(plan);
        this.deadlineNanos = submittedNanos + timeoutNanos;
        this.listener = listener;
        this.progressWatched = progressWatched;
        this.totalSteps = plan.totalSteps();
    }

    int imageCount() {
        return plan.parameters().batchCount();
    }

    boolean expired(long now) {
        return now - deadlineNanos > 0;
    }

    /** The step callback: cancels when the job was stopped or ran out of time, records progress and previews. */
    void onStep(StepEvent event) {
        if (stop == null && expired(System.nanoTime())) {
            stop = Stop.TIMEOUT;
        }
        if (stop != null) {
            event.cancel();
            return;
        }
        completedSteps = event.imageIndex() * event.totalSteps() + event.step() + 1;
        byte[] preview = null;
        if (previewDue(event) && (listener.wantsPreviews() || progressWatched.getAsBoolean())) {
            RgbImage image = event.previewDecoded();
            preview = PngWriter.encode(image.rgb(), image.width(), image.height(), Map.of());
            latestPreview = preview;
        }
        listener.onStep(this, event, preview);
    }

    /**
     * A preview about every tenth of the steps, never after the last step (the image itself follows), so a long
     * run on a large model spends little on decoding previews.
     */
    private static boolean previewDue(StepEvent e) {
        int every = Math.max(1, e.totalSteps() / 10);
        return e.step() < e.totalSteps() - 1 && (e.step() + 1) % every == 0;
    }

    /** The image callback: keeps the PNG (with its A1111 parameters) and tells the listener. */
    void onImage(int index, RgbImage image, GenerationParameters used) {
        byte[] png = PngWriter.encode(image.rgb(), image.width(), image.height(),
                Map.of("parameters", used.infotext(index)));
        synchronized (pngs) {
            pngs.add(png);
        }
        listener.onImage(this, index, image, used, png);
    }

    /** The PNGs finished so far, in order. */
    List<byte[]> pngs() {
        synchronized (pngs) {
            return List.copyOf(pngs);
        }
    }

    /** Progress in [0, 1] over all of the job's steps. */
    double progress() {
        return totalSteps == 0 ? 0 : (double) completedSteps / totalSteps;
    }
}
