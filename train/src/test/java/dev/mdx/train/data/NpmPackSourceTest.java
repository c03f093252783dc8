package dev.mdx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpmPackSourceTest {
    @TempDir
    Path tmp;

    @Test
    void namesTarballsAsNpmPackDoes() {
        assertEquals("iconify-json-noto-1.2.9.tgz", NpmPackSource.tarballName("@iconify-json/noto", "1.2.9"));
        assertEquals("emojibase-data-17.0.0.tgz", NpmPackSource.tarballName("emojibase-data", "17.0.0"));
    }

    @Test
    void usesACachedTarballWithoutRunningNpm() throws IOException {
        Path cached = Files.writeString(tmp.resolve("emojibase-data-1.0.0.tgz"), "x");
        NpmPackSource source = new NpmPackSource(tmp, tmp.resolve("no-such-npm").toString());
        assertEquals(cached, source.fetch("emojibase-data", "1.0.0"));
    }

    @Test
    void explainsAMissingNpm() {
        NpmPackSource source = new NpmPackSource(tmp, tmp.resolve("no-such-npm").toString());
        DatasetException e = assertThrows(DatasetException.class, () -> source.fetch("emojibase-data", "1.0.0"));
        assertTrue(e.getMessage().contains("install Node.js and npm"), e.getMessage());
    }
}
