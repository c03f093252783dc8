package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM (what Ctrl-C's SIGINT also triggers: the JVM's shutdown hooks) stops a real run with a checkpoint. */
class ShutdownTest {
    @TempDir
    Path tmp;

    @Test
    void signalStopsAfterTheCurrentStepWithACheckpoint() throws Exception {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", cp, TinyTrainingMain.class.getName(), tmp.toString()));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile()).start();
        try {
            Path csv = tmp.resolve(TrainingLog.FILE);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && (!Files.exists(csv) || Files.readAllLines(csv).size() < 30)) {
                assertTrue(child.isAlive(), () -> "child died: " + read(tmp.resolve("child.log")));
                Thread.sleep(100);
            }
            child.destroy(); // SIGTERM
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not exit after SIGTERM");
        } finally {
            child.destroyForcibly();
        }
        String log = read(tmp.resolve("child.log"));
        System.out.println("child output tail: " + log.substring(Math.max(0, log.length() - 200)).trim());
        List<String> rows = Files.readAllLines(tmp.resolve(TrainingLog.FILE));
        long lastLogged = Long.parseLong(rows.get(rows.size() - 1).split(",")[0]);
        Checkpoints.Checkpoint c = new Checkpoints(tmp, 3).latest().orElseThrow(
                () -> new AssertionError("no checkpoint after SIGTERM; child said: " + log));
        assertTrue(c.step() >= 29, "stopped at step " + c.step());
        assertEquals(lastLogged, c.step(), "the checkpoint is at the last completed step");
        assertEquals(c.step(), TrainerState.read(c.state()).step());
        assertTrue(log.contains("stopped at step " + c.step()), log);
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
