package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.io.ModelIndex;
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
        ModelIndex index = ModelIndex.read(model);
        assertEquals(2, Students.list(index).size(), "folders without a step count or UFOGen are not students");
        assertEquals(model.resolve("students/distill-8"), Students.forSteps(index, 8).orElseThrow().dir());
        for (int steps : new int[] {1, 2, 4}) {
            Students.Student s = Students.forSteps(index, steps).orElseThrow();
            assertTrue(s.ufogen(), "UFOGen for " + steps + " steps");
        }
        assertTrue(Students.forSteps(index, 5).isEmpty());
        assertTrue(Students.forSteps(index, 50).isEmpty());
        assertTrue(Students.forSteps(ModelIndex.read(model.resolve("elsewhere")), 1).isEmpty(),
                "no students folder: none");
    }

    @Test
    void describesTheUfogenStudentByTheStepsItRuns() throws Exception {
        student("ufogen", "{\"_mdx_student_steps\": 1, \"scheduler\": [\"diffusers\", \"UFOGenScheduler\"]}");
        Students.Student s = Students.forSteps(ModelIndex.read(model), 2).orElseThrow();
        assertEquals("the one-step UFOGen student", s.describe(1));
        assertEquals("the UFOGen student (made for one step; 2 with its multi-step sampling)", s.describe(2));
    }
}
