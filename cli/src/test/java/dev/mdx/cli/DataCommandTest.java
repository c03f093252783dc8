package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataCommandTest {
    @TempDir
    Path dir;

    @Test
    void missingFashionSourceIsOneClearLineAndExitOne() {
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"data", "fashion", "-o", dir.resolve("out").toString(),
            "--source", dir.resolve("absent").toString()}, new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(ExitCodes.FAILURE, code);
        assertTrue(err.toString().contains("does not exist"), err.toString());
        assertTrue(err.toString().contains("apt-get install dataset-fashion-mnist"), err.toString());
        assertFalse(err.toString().contains("\tat "), "no stack trace: " + err);
    }

    @Test
    void badSizeIsAUsageError() {
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"data", "emoji", "-o", dir.toString(), "--size", "3"},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(ExitCodes.USAGE, code);
        assertTrue(err.toString().contains("--size must be between 8 and 1024"), err.toString());
    }

    @Test
    void unknownCaptionSetIsAUsageError() {
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"data", "fashion", "-o", dir.resolve("out").toString(), "--captions", "v9"},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(ExitCodes.USAGE, code);
        assertTrue(err.toString().contains("--captions: caption set must be v1, v2 or v3, got 'v9'"), err.toString());
    }

    @Test
    void captionSetV3IsFashionOnly() {
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"data", "emoji", "-o", dir.resolve("emoji").toString(), "--captions", "v3"},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertTrue(code != 0, "exit code " + code);
        assertTrue(err.toString().contains("caption set v3 exists for Fashion-MNIST only"), err.toString());
        assertFalse(err.toString().contains("\tat "), "one message, no stack trace: " + err);
    }
}
