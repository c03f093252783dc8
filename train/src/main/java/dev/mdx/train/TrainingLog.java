package dev.mdx.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The per-step CSV log {@code step,loss,lr,grad_norm,seconds}. On resume, rows after the checkpoint's step are
 * dropped: those steps are trained again and would otherwise appear twice.
 */
public final class TrainingLog implements AutoCloseable {
    public static final String FILE = "train_log.csv";
    public static final String HEADER = "step,loss,lr,grad_norm,seconds";

    private final Path file;
    private final BufferedWriter out;

    private TrainingLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /** Starts a new log, or continues one keeping only rows up to {@code resumedStep}. */
    public static TrainingLog open(Path outDir, long resumedStep) {
        Path file = outDir.resolve(FILE);
        try {
            Files.createDirectories(outDir);
            List<String> kept = new ArrayList<>();
            kept.add(HEADER);
            if (resumedStep > 0 && Files.isRegularFile(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    int comma = line.indexOf(',');
                    if (comma > 0 && line.substring(0, comma).matches("\\d{1,18}")
                            && Long.parseLong(line.substring(0, comma)) <= resumedStep) {
                        kept.add(line);
                    }
                }
            }
            Files.write(file, kept, StandardCharsets.UTF_8);
            return new TrainingLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                    StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    /** {@code step} is the number of completed steps, 1 for the first. */
    public void append(long step, double loss, double lr, double gradNorm, double seconds) {
        try {
            out.write(String.format(Locale.ROOT, "%d,%.9g,%.9g,%.9g,%.3f%n", step, loss, lr, gradNorm, seconds));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
