package dev.mdx.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void writesTheContentWithTheUsualPermissionsAndNoLeftovers() throws Exception {
        Assumptions.assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path plain = Files.createFile(dir.resolve("plain"));
        Path written = dir.resolve("image.png");
        AtomicFiles.writeBytes(written, new byte[] {1, 2, 3});
        AtomicFiles.writeBytes(written, new byte[] {4, 5});
        assertArrayEquals(new byte[] {4, 5}, Files.readAllBytes(written));
        // what any program gets under this umask, not createTempFile's owner-only rw-------
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(written));
        try (var list = Files.list(dir)) {
            assertEquals(List.of("image.png", "plain"), list.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
