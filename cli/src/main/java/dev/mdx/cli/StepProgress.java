package dev.mdx.cli;

import dev.mdx.pipeline.StepCallback;
import dev.mdx.pipeline.StepEvent;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows sampling progress on stderr: a redrawn progress bar (step i/N, it/s, ETA) on a terminal, plain lines at most
 * once a second (and at the end) otherwise, so that logs stay readable.
 */
abstract class StepProgress implements StepCallback, AutoCloseable {
    /** Columns of the redrawn bar. */
    private static final int BAR_WIDTH = 100;

    static StepProgress create(PrintWriter err, int totalSteps) {
        return System.console() != null ? new Bar(err, totalSteps) : new Lines(err, totalSteps);
    }

    @Override
    public abstract void close();

    private static final class Bar extends StepProgress {
        private final PrintWriter err;
        private final ProgressBar bar;

        Bar(PrintWriter err, int totalSteps) {
            this.err = err;
            bar = new ProgressBarBuilder()
                    .setTaskName("sampling")
                    .setInitialMax(totalSteps)
                    .setStyle(ProgressBarStyle.ASCII)
                    .setUnit(" it", 1)
                    .showSpeed()
                    .setSpeedUnit(ChronoUnit.SECONDS)
                    .setUpdateIntervalMillis(200)
                    .setConsumer(new DelegatingProgressBarConsumer(line -> {
                        err.print('\r' + line);
                        err.flush();
                    }, BAR_WIDTH))
                    .build();
        }

        @Override
        public void onStep(StepEvent event) {
            bar.stepTo(event.completedOfBatch());
        }

        @Override
        public void close() {
            bar.close();
            err.println();
            err.flush();
        }
    }

    private static final class Lines extends StepProgress {
        private static final long INTERVAL_NANOS = 1_000_000_000L;
        private final PrintWriter err;
        private final int totalSteps;
        private final long start = System.nanoTime();
        private long lastPrint = start;

        Lines(PrintWriter err, int totalSteps) {
            this.err = err;
            this.totalSteps = totalSteps;
        }

        @Override
        public void onStep(StepEvent event) {
            long now = System.nanoTime();
            int done = event.completedOfBatch();
            if (done < totalSteps && now - lastPrint < INTERVAL_NANOS) {
                return;
            }
            lastPrint = now;
            double seconds = (now - start) / 1e9;
            double rate = seconds > 0 ? done / seconds : 0;
            String image = event.imageCount() > 1 ? String.format(Locale.ROOT, " (image %d/%d)",
                    event.imageIndex() + 1, event.imageCount()) : "";
            long eta = rate > 0 ? Math.round((totalSteps - done) / rate) : 0;
            err.printf(Locale.ROOT, "step %d/%d%s  %.2f it/s  ETA %s%n", done, totalSteps, image, rate,
                    clock(Duration.ofSeconds(eta)));
            err.flush();
        }

        @Override
        public void close() {
        }

        private static String clock(Duration d) {
            return d.toHours() > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", d.toHours(), d.toMinutesPart(),
                    d.toSecondsPart()) : String.format(Locale.ROOT, "%d:%02d", d.toMinutes(), d.toSecondsPart());
        }
    }
}
