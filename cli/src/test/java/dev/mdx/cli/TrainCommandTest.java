package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
    @TempDir
    Path dir;

    private String run(int expectedCode, String... args) {
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(expectedCode, code, err.toString());
        assertFalse(err.toString().contains("\tat "), "no stack trace: " + err);
        return err.toString();
    }

    @Test
    void configErrorsAreOneLineNamingTheProblem() throws Exception {
        String missing = run(ExitCodes.FAILURE, "train", "vae", "-c", dir.resolve("none.json").toString(), "-o",
                dir.resolve("out").toString());
        assertTrue(missing.contains("none.json") && missing.contains("not found"), missing);

        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"stage\": \"vae\", \"trainer\": {\"max_train_steps\": 1}, \"vae\": {},"
                + " \"data\": {\"dataset\": \"d\"}, \"loss\": {\"kl_weigth\": 1e-6}}");
        String unknown = run(ExitCodes.FAILURE, "train", "vae", "-c", bad.toString(), "-o", dir.resolve("o").toString());
        assertTrue(unknown.contains("kl_weigth"), unknown);
    }
}
