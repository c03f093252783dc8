package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingLogTest {
    @TempDir
    Path tmp;

    @Test
    void resumeDropsRowsAfterTheCheckpoint() throws Exception {
        try (TrainingLog log = TrainingLog.open(tmp, 0)) {
            for (int s = 1; s <= 10; s++) {
                log.append(s, 1.0 / s, 1e-3, 0.5, s * 0.1);
            }
        }
        try (TrainingLog log = TrainingLog.open(tmp, 6)) {
            log.append(7, 0.25, 1e-3, 0.5, 0.7);
        }
        List<String> lines = Files.readAllLines(tmp.resolve(TrainingLog.FILE));
        assertEquals(TrainingLog.HEADER, lines.get(0));
        assertEquals(8, lines.size(), String.join("\n", lines));
        assertEquals("6,0.166666667,0.00100000000,0.500000000,0.600", lines.get(6));
        assertTrue(lines.get(7).startsWith("7,0.250000000,"));
        try (TrainingLog log = TrainingLog.open(tmp, 0)) {
            log.flush();
        }
        assertEquals(List.of(TrainingLog.HEADER), Files.readAllLines(tmp.resolve(TrainingLog.FILE)),
                "a new run starts a new log");
    }

    @Test
    void progressPrintsWholeLinesWhenNotATerminal() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressLine p = new ProgressLine(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 5, 0, 12);
        for (int s = 1; s <= 12; s++) {
            p.update(s, 0.5, 1e-4);
        }
        p.finish("done");
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(4, lines.length, "steps 5, 10, the last step, and the closing message");
        assertTrue(lines[0].startsWith("step  5/12  loss 0.5000  lr 0.000100  "), lines[0]);
        assertTrue(lines[2].startsWith("step 12/12"), lines[2]);
        assertEquals("done", lines[3]);
        assertEquals(false, bytes.toString(StandardCharsets.UTF_8).contains("\r"));
        assertEquals("59s", ProgressLine.duration(59.4));
        assertEquals("2m05s", ProgressLine.duration(125));
        assertEquals("3h00m07s", ProgressLine.duration(10807));
    }
}
