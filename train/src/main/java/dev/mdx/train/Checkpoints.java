package dev.mdx.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoint folders of a run, {@code OUT/checkpoints/step-NNNNNNNN/}. A checkpoint is written into a hidden
 * temporary folder and renamed into place in one step, so a folder named {@code step-N} is always complete; a
 * write cut short leaves only a hidden {@code .step-N.tmp-*} folder, which is never read and is removed on the
 * next resume.
 */
public final class Checkpoints {
    public static final String FOLDER = "checkpoints";
    public static final String MODEL = "model.safetensors";
    public static final String EMA = "ema.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";

    private static final Pattern NAME = Pattern.compile("step-(\\d{1,18})");
    private static final String TMP_PREFIX = ".step-";

    /** One complete checkpoint folder. */
    public record Checkpoint(long step, Path dir) {
        public Path model() {
            return dir.resolve(MODEL);
        }

        public Path ema() {
            return dir.resolve(EMA);
        }

        public Path optimizer() {
            return dir.resolve(OPTIMIZER);
        }

        public Path state() {
            return dir.resolve(TrainerState.FILE);
        }
    }

    /** Writes the files of one checkpoint into a folder. */
    @FunctionalInterface
    public interface Content {
        void writeInto(Path dir);
    }

    private final Path root;
    private final int keepLast;

    public Checkpoints(Path outDir, int keepLast) {
        if (keepLast < 1) {
            throw new IllegalArgumentException("must keep at least one checkpoint, got " + keepLast);
        }
        this.root = outDir.resolve(FOLDER);
        this.keepLast = keepLast;
    }

    public Path root() {
        return root;
    }

    public static String name(long step) {
        return String.format("step-%08d", step);
    }

    /** Complete checkpoints, oldest first. A folder counts when its name is step-N and its state file exists. */
    public List<Checkpoint> list() {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Checkpoint> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.forEach(p -> {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches() && Files.isRegularFile(p.resolve(TrainerState.FILE))) {
                    out.add(new Checkpoint(Long.parseLong(m.group(1)), p));
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
        out.sort(Comparator.comparingLong(Checkpoint::step));
        return out;
    }

    public Optional<Checkpoint> latest() {
        List<Checkpoint> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** Removes the leftovers of interrupted writes; returns how many folders were removed. */
    public int removePartial() {
        if (!Files.isDirectory(root)) {
            return 0;
        }
        List<Path> partial = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.filter(p -> p.getFileName().toString().startsWith(TMP_PREFIX)).forEach(partial::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
        partial.forEach(Checkpoints::deleteTree);
        return partial.size();
    }

    /**
     * Writes the checkpoint of {@code step} atomically, then deletes all but the newest {@code keepLast}. A
     * checkpoint of that step that already exists is kept as it is.
     */
    public Checkpoint write(long step, Content content) {
        Path target = root.resolve(name(step));
        if (!Files.isDirectory(target)) {
            Path tmp = null;
            try {
                Files.createDirectories(root);
                tmp = Files.createTempDirectory(root, TMP_PREFIX + String.format("%08d", step) + ".tmp-");
                content.writeInto(tmp);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                syncDirectory(root);
            } catch (IOException e) {
                if (tmp != null) {
                    deleteTree(tmp);
                }
                throw new UncheckedIOException("cannot write checkpoint " + target + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                if (tmp != null) {
                    deleteTree(tmp);
                }
                throw e;
            }
        }
        List<Checkpoint> all = list();
        for (int i = 0; i < all.size() - keepLast; i++) {
            deleteTree(all.get(i).dir());
        }
        return new Checkpoint(step, target);
    }

    /** Makes the rename durable; some file systems cannot open folders, which only weakens durability. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // the rename itself is still atomic
        }
    }

    /** Deletes a folder and everything in it; nothing to do when it does not exist. */
    public static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot delete " + f + ": " + e.getMessage(), e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + p + ": " + e.getMessage(), e);
        }
    }
}
