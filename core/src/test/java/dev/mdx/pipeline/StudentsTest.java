package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StudentsTest {
    @TempDir
    Path model;

    private void student(String name, String index) throws Exception {
        Path dir = Files.createDirectories(model.resolve("students").resolve(name));
        Files.writeString(dir.resolve("model_index.json"), index);
    }

    @Test
    void exactStepCountFirstThenUfogenForFewSteps() throws Exception {
        student("distill-8", "{\"_mdx_student_steps\": 8}");
        student("ufogen", "{\"_mdx_student_steps\": 1, \"scheduler\": [\"diffusers\", \"UFOGenScheduler\"]}");
        student("notes", "{}");
        assertEquals(2, Students.list(model).size(), "folders without a step count or UFOGen are not students");
        assertEquals(model.resolve("students/distill-8"), Students.forSteps(model, 8).orElseThrow().dir());
        for (int steps : new int[] {1, 2, 4}) {
            Students.Student s = Students.forSteps(model, steps).orElseThrow();
            assertTrue(s.ufogen(), "UFOGen for " + steps + " steps");
        }
        assertTrue(Students.forSteps(model, 5).isEmpty());
        assertTrue(Students.forSteps(model, 50).isEmpty());
        assertTrue(Students.forSteps(model.resolve("elsewhere"), 1).isEmpty(), "no students folder: none");
    }
}
