package dev.mdx.pipeline;

import dev.mdx.io.ModelIndex;
import dev.mdx.sampling.SamplerKind;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The few-step students shipped with a base model, in {@code MODEL/students/NAME/}: each a pipeline folder (usually
 * only {@code unet/}, {@code scheduler/} and a {@code model_index.json} whose component folders point at the base's
 * frozen parts). A request for N steps uses the student made for exactly N steps; failing that, for up to
 * {@value #UFOGEN_MAX_STEPS} steps, a UFOGen student (one step, or its multi-step sampling).
 */
public final class Students {
    public static final int UFOGEN_MAX_STEPS = 4;

    /** One student: its folder's index, the step count it was made for, and whether it samples with UFOGen. */
    public record Student(ModelIndex index, int steps, boolean ufogen) {
        public Path dir() {
            return index.root();
        }

        /** The student as it runs a request of {@code requestedSteps} steps, for people. */
        public String describe(int requestedSteps) {
            if (!ufogen) {
                return "the " + steps + "-step distilled student";
            }
            return requestedSteps == 1 ? "the one-step UFOGen student"
                    : "the UFOGen student (made for one step; " + requestedSteps + " with its multi-step sampling)";
        }
    }

    private Students() {}

    /** The student's folder relative to its base model's, as a person would type it. */
    public static String relativeName(Path base, Student student) {
        Path b = base.toAbsolutePath().normalize();
        Path d = student.dir().toAbsolutePath().normalize();
        return d.startsWith(b) ? b.relativize(d).toString() : d.toString();
    }

    /** The students a base model ships, by folder name; folders that are neither distilled nor UFOGen are skipped. */
    public static List<Student> list(ModelIndex base) {
        return base.students().stream()
                .map(s -> new Student(s, s.studentSteps().orElse(0),
                        s.schedulerIs(SamplerKind.UFOGEN.diffusersClass())))
                .filter(s -> s.steps() > 0 || s.ufogen())
                .toList();
    }

    /** The student to use for a request of {@code steps} steps, if the model ships one. */
    public static Optional<Student> forSteps(ModelIndex base, int steps) {
        List<Student> all = list(base);
        Optional<Student> exact = all.stream().filter(s -> !s.ufogen() && s.steps() == steps).findFirst();
        if (exact.isPresent() || steps > UFOGEN_MAX_STEPS) {
            return exact;
        }
        return all.stream().filter(Student::ufogen).findFirst();
    }
}
