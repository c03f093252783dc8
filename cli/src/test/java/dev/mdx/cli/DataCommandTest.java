package dev.mdx.cli;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataCommandTest {
    @TempDir
    Path dir;

    @Test
    void missingFashionSourceIsOneClearLineAndExitOne() {
        CliRun.mdx("data", "fashion", "-o", dir.resolve("out").toString(), "--source", dir.resolve("absent").toString())
                .assertUserError(ExitCodes.FAILURE, "does not exist", "apt-get install dataset-fashion-mnist");
    }

    @Test
    void badSizeIsAUsageError() {
        CliRun.mdx("data", "emoji", "-o", dir.toString(), "--size", "3")
                .assertUserError(ExitCodes.USAGE, "--size must be between 8 and 1024");
    }

    @Test
    void unknownCaptionSetIsAUsageError() {
        CliRun.mdx("data", "fashion", "-o", dir.resolve("out").toString(), "--captions", "v9")
                .assertUserError(ExitCodes.USAGE, "--captions: caption set must be v1, v2 or v3, got 'v9'");
    }

    @Test
    void captionSetV3IsFashionOnly() {
        CliRun.mdx("data", "emoji", "-o", dir.resolve("emoji").toString(), "--captions", "v3")
                .assertUserError(ExitCodes.FAILURE, "caption set v3 exists for Fashion-MNIST only");
    }
}
