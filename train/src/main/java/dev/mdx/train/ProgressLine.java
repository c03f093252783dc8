package dev.mdx.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress report: step, loss, learning rate, rate and ETA. On a terminal the line is redrawn in place
 * (carriage return) at most a few times a second; otherwise (a log file, CI) a full line is printed every
 * {@code every} steps so the output stays readable.
 */
public final class ProgressLine {
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final int every;
    private final long total;
    private final long firstStep;
    private final long startNanos = System.nanoTime();
    private long lastDraw;
    private int lastWidth;

    public ProgressLine(PrintStream out, boolean terminal, int every, long firstStep, long total) {
        this.out = out;
        this.terminal = terminal;
        this.every = Math.max(1, every);
        this.firstStep = firstStep;
        this.total = total;
    }

    /** Whether standard output is an interactive terminal. */
    public static boolean stdoutIsTerminal() {
        return System.console() != null;
    }

    /** {@code step} counts completed steps. */
    public void update(long step, double loss, double lr) {
        long now = System.nanoTime();
        boolean last = step >= total;
        if (terminal) {
            if (!last && now - lastDraw < REDRAW_NANOS) {
                return;
            }
            String line = format(step, loss, lr, now);
            out.print('\r' + line + " ".repeat(Math.max(0, lastWidth - line.length())));
            lastWidth = line.length();
            out.flush();
        } else if (step % every == 0 || last) {
            out.println(format(step, loss, lr, now));
        }
        lastDraw = now;
    }

    /** Ends the line on a terminal and prints a closing message. */
    public void finish(String message) {
        if (terminal && lastWidth > 0) {
            out.println();
        }
        out.println(message);
        out.flush();
    }

    String format(long step, double loss, double lr, long now) {
        double seconds = (now - startNanos) / 1e9;
        long done = step - firstStep;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = rate > 0 ? duration((total - step) / rate) : "?";
        int width = Long.toString(total).length();
        return String.format(Locale.ROOT, "step %" + width + "d/%d  loss %.4g  lr %.3g  %.2f it/s  ETA %s",
                step, total, loss, lr, rate, eta);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s % 3600 / 60, s % 60);
        }
        if (s >= 60) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return s + "s";
    }
}
