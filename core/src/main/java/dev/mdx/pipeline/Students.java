package dev.mdx.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFolder;
import dev.mdx.sampling.SamplerKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The few-step students shipped with a base model, in {@code MODEL/students/NAME/}: each a pipeline folder (usually
 * only {@code unet/}, {@code scheduler/} and a {@code model_index.json} whose {@code _mdx_component_dirs} point at
 * the base's frozen parts). A request for N steps uses the student made for exactly N steps
 * ({@code _mdx_student_steps}, written by {@code mdx train distill}); failing that, for up to
 * {@value #UFOGEN_MAX_STEPS} steps, a UFOGen student (one step, or its multi-step sampling).
 */
public final class Students {
    public static final String FOLDER = "students";
    public static final int UFOGEN_MAX_STEPS = 4;

    /** One student: its folder, the step count it was made for, and whether it samples with UFOGen. */
    public record Student(Path dir, int steps, boolean ufogen) {
        public String describe() {
            return ufogen ? "the one-step UFOGen student" : "the " + steps + "-step distilled student";
        }
    }

    private Students() {}

    /** The students in {@code modelDir/students}, by folder name. */
    public static List<Student> list(Path modelDir) {
        Path dir = modelDir.resolve(FOLDER);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Student> out = new ArrayList<>();
        try (Stream<Path> children = Files.list(dir)) {
            for (Path child : children.sorted(Comparator.comparing(Path::toString)).toList()) {
                Path index = child.resolve("model_index.json");
                if (!Files.isRegularFile(index)) {
                    continue;
                }
                JsonNode root = JsonConfig.read(index).root();
                int steps = root.path(PipelineConfig.DISTILLED_STEPS_KEY).asInt(0);
                JsonNode scheduler = root.path(ModelFolder.SCHEDULER);
                boolean ufogen = scheduler.isArray() && scheduler.size() == 2
                        && SamplerKind.UFOGEN.diffusersClass().equals(scheduler.get(1).asText());
                if (steps > 0 || ufogen) {
                    out.add(new Student(child, steps, ufogen));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return out;
    }

    /** The student to use for a request of {@code steps} steps, if the model ships one. */
    public static Optional<Student> forSteps(Path modelDir, int steps) {
        List<Student> all = list(modelDir);
        Optional<Student> exact = all.stream().filter(s -> !s.ufogen() && s.steps() == steps).findFirst();
        if (exact.isPresent() || steps > UFOGEN_MAX_STEPS) {
            return exact;
        }
        return all.stream().filter(Student::ufogen).findFirst();
    }
}
