package dev.mdx.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;

/** Writes a file so that a reader sees either the old content or the complete new content, never a part. */
public final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();
    private AtomicFiles() {}

    /** Writes the content of one file through a channel. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    public static void write(Path file, Content content) {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            // not createTempFile: its owner-only permissions would stay on the result; CREATE_NEW honours the umask
            tmp = tempFile(target);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                content.writeTo(ch);
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write " + target + ": " + reason(e), e);
        }
    }

    /**
     * Fails now, with the reason, if {@link #write} could not write {@code file} later: creates and deletes a
     * temporary file of the name write would use (longer than the file's own name, so a name the file system
     * refuses is caught too) in its folder, creating the folder.
     */
    public static void checkWritable(Path file) {
        Path target = file.toAbsolutePath();
        Path probe = null;
        try {
            if (Files.exists(target) && !Files.isRegularFile(target)) {
                throw new IOException(Files.isDirectory(target) ? "it is a folder" : "it is not a regular file");
            }
            Path existing = target.getParent();
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            if (existing != null && !Files.isDirectory(existing)) {
                throw new IOException(existing + " is a file, not a folder");
            }
            Files.createDirectories(target.getParent());
            probe = tempFile(target);
            Files.createFile(probe);
        } catch (IOException | SecurityException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + reason(e),
                    e instanceof IOException io ? io : new IOException(e));
        } finally {
            deleteQuietly(probe);
        }
    }

    /** The temporary name beside {@code target} that a write goes through (hidden, random, .tmp). */
    private static Path tempFile(Path target) {
        return target.getParent().resolve("." + target.getFileName() + "."
                + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
    }

    /** The problem without the path Java puts in front of it (the message names the file already). */
    private static String reason(Exception e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    public static void writeBytes(Path file, byte[] bytes) {
        write(file, ch -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }

    private static void deleteQuietly(Path p) {
        if (p == null) {
            return;
        }
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the temp file name starts with a dot and is ignored by readers
        }
    }
}
