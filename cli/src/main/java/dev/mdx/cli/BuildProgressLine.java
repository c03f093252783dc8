package dev.mdx.cli;

import java.io.PrintWriter;

/**
 * A single progress line on stderr: phase, done/total, rate and ETA. Redrawn in place on a terminal, printed at
 * most every few seconds otherwise, so logs stay readable.
 */
final class BuildProgressLine {
    private final PrintWriter err;
    private final boolean terminal = System.console() != null;
    private final long start = System.nanoTime();
    private String phase = "";
    private long phaseStart = start;
    private long lastPrint;

    BuildProgressLine(PrintWriter err) {
        this.err = err;
    }

    synchronized void update(String newPhase, long done, long total) {
        long now = System.nanoTime();
        if (!newPhase.equals(phase)) {
            if (terminal && !phase.isEmpty()) {
                err.println();
            }
            phase = newPhase;
            phaseStart = now;
            lastPrint = 0;
        }
        boolean finished = total > 0 && done >= total;
        long interval = terminal ? 100_000_000L : 5_000_000_000L;
        if (!finished && now - lastPrint < interval) {
            return;
        }
        lastPrint = now;
        double seconds = (now - phaseStart) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = rate > 0 && total > done ? String.format(" ETA %s", dev.mdx.train.ProgressLine.duration((total - done) / rate)) : "";
        String text = total > 0
                ? String.format("%s %d/%d (%.0f%%) %.1f/s%s", phase, done, total, 100.0 * done / total, rate, eta)
                : String.format("%s %d", phase, done);
        if (terminal) {
            err.print("\r" + text + "   ");
            if (finished) {
                err.println();
            }
        } else {
            err.println(text);
        }
        err.flush();
    }
}
