package dev.mdx.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * A pipeline folder's {@code model_index.json}, parsed once: the one place that knows its keys. diffusers writes the
 * component classes ({@code "scheduler": ["diffusers", "DDIMScheduler"]}, ...); mdx adds its own keys, all starting
 * with {@code _mdx}:
 * <ul>
 *   <li>{@value #COMPONENT_DIRS_KEY}: component folders relative to the pipeline folder ({@code {"vae": "vae_light"}});
 *       a student shipped beside its base reuses the base's frozen parts this way</li>
 *   <li>{@value #STUDENT_STEPS_KEY}: the step count a distilled student was made for</li>
 *   <li>{@value #NEEDS_CFG_KEY}: whether that student runs with classifier-free guidance</li>
 *   <li>{@value #GUIDANCE_RANGE_KEY}: [min, max], the CFG scales a w-conditioned student learned</li>
 *   <li>{@value #TEACHER_KEY}, {@value #NOTE_KEY}: where a trained model came from, for people</li>
 * </ul>
 * A folder without the file is a valid pipeline whose components sit in their default folders. The students a base
 * model ships ({@code students/NAME/}, each a pipeline folder of its own) are read with it.
 *
 * @param root the pipeline folder
 * @param componentDirs folder of each of {@link #COMPONENTS}, absolute or relative as {@code root} is
 * @param schedulerClass the diffusers scheduler class the index names, if it names one
 * @param studentSteps {@value #STUDENT_STEPS_KEY}, when set
 * @param needsCfg {@value #NEEDS_CFG_KEY}, when set
 * @param guidanceRange {@value #GUIDANCE_RANGE_KEY}, when set
 * @param students the students in {@code root/students}, by folder name (none for a student itself)
 */
public record ModelIndex(Path root, Map<String, Path> componentDirs, Optional<String> schedulerClass,
        OptionalInt studentSteps, Optional<Boolean> needsCfg, Optional<GuidanceRange> guidanceRange,
        List<ModelIndex> students) {

    public static final String FILE = "model_index.json";
    public static final String UNET = "unet";
    public static final String VAE = "vae";
    public static final String TEXT_ENCODER = "text_encoder";
    public static final String TOKENIZER = "tokenizer";
    public static final String SCHEDULER = "scheduler";
    public static final List<String> COMPONENTS = List.of(UNET, VAE, TEXT_ENCODER, TOKENIZER, SCHEDULER);

    public static final String COMPONENT_DIRS_KEY = "_mdx_component_dirs";
    public static final String STUDENT_STEPS_KEY = "_mdx_student_steps";
    public static final String NEEDS_CFG_KEY = "_mdx_needs_cfg";
    public static final String GUIDANCE_RANGE_KEY = "_mdx_guidance_range";
    public static final String TEACHER_KEY = "_mdx_teacher";
    public static final String NOTE_KEY = "_mdx";
    /** The folder of a base model that holds its students. */
    public static final String STUDENTS_FOLDER = "students";

    /** The CFG scales a w-conditioned student was distilled for. */
    public record GuidanceRange(double min, double max) {}

    public ModelIndex {
        componentDirs = Map.copyOf(componentDirs);
        students = List.copyOf(students);
    }

    /** Reads {@code root/model_index.json} (when present) and the students beside it. */
    public static ModelIndex read(Path root) {
        return read(root, true);
    }

    private static ModelIndex read(Path root, boolean withStudents) {
        Path file = root.resolve(FILE);
        JsonConfig json = Files.isRegularFile(file) ? JsonConfig.read(file) : null;
        ObjectNode empty = JsonConfig.MAPPER.createObjectNode();
        JsonNode node = json == null ? empty : json.root();
        String source = file.toString();
        return new ModelIndex(root, componentDirs(root, node, source), schedulerClass(node, source),
                positiveInt(node, STUDENT_STEPS_KEY, source), bool(node, NEEDS_CFG_KEY, source),
                guidanceRange(node, source), withStudents ? students(root) : List.of());
    }

    public Path dir(String component) {
        Path dir = componentDirs.get(component);
        if (dir == null) {
            throw new IllegalArgumentException("unknown component " + component + "; known: " + COMPONENTS);
        }
        return dir;
    }

    /** The folder's name (a student's is its folder under students/). */
    public String name() {
        Path abs = root.toAbsolutePath().normalize();
        return abs.getFileName() != null ? abs.getFileName().toString() : abs.toString();
    }

    /** Whether the index names {@code cls} as its scheduler class. */
    public boolean schedulerIs(String cls) {
        return schedulerClass.map(cls::equals).orElse(false);
    }

    private static Map<String, Path> componentDirs(Path root, JsonNode node, String source) {
        JsonNode mapped = node.get(COMPONENT_DIRS_KEY);
        if (mapped != null && !mapped.isObject()) {
            throw typeError(source, COMPONENT_DIRS_KEY, "an object of component folders such as {\"vae\": \"vae_light\"}",
                    mapped);
        }
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (String component : COMPONENTS) {
            JsonNode rel = mapped == null ? null : mapped.get(component);
            if (rel != null && !rel.isTextual()) {
                throw typeError(source, COMPONENT_DIRS_KEY + "." + component, "a folder path", rel);
            }
            dirs.put(component, rel != null ? root.resolve(rel.asText()).normalize() : root.resolve(component));
        }
        if (mapped != null) {
            List<String> unknown = new ArrayList<>();
            mapped.fieldNames().forEachRemaining(k -> {
                if (!COMPONENTS.contains(k)) {
                    unknown.add(k);
                }
            });
            if (!unknown.isEmpty()) {
                throw new ModelFormatException(source + ": " + COMPONENT_DIRS_KEY + " names unknown component(s) "
                        + String.join(", ", unknown) + " (known: " + String.join(", ", COMPONENTS) + ")");
            }
        }
        return dirs;
    }

    /** diffusers' {@code "scheduler": ["diffusers", "ClassName"]}. */
    private static Optional<String> schedulerClass(JsonNode node, String source) {
        JsonNode entry = node.get(SCHEDULER);
        if (entry == null || entry.isNull() || entry.isArray() && entry.size() == 2 && entry.get(1).isNull()) {
            return Optional.empty(); // absent, or diffusers' [null, null] for a pipeline saved without one
        }
        if (!entry.isArray() || entry.size() != 2 || !entry.get(1).isTextual()) {
            throw typeError(source, SCHEDULER, "[library, class name] such as [\"diffusers\", \"DDIMScheduler\"]",
                    entry);
        }
        return Optional.of(entry.get(1).asText());
    }

    private static OptionalInt positiveInt(JsonNode node, String key, String source) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return OptionalInt.empty();
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
            throw typeError(source, key, "a positive whole number", v);
        }
        return OptionalInt.of(v.asInt());
    }

    private static Optional<Boolean> bool(JsonNode node, String key, String source) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return Optional.empty();
        }
        if (!v.isBoolean()) {
            throw typeError(source, key, "true or false", v);
        }
        return Optional.of(v.asBoolean());
    }

    private static Optional<GuidanceRange> guidanceRange(JsonNode node, String source) {
        JsonNode v = node.get(GUIDANCE_RANGE_KEY);
        if (v == null || v.isNull()) {
            return Optional.empty();
        }
        if (!v.isArray() || v.size() != 2 || !v.get(0).isNumber() || !v.get(1).isNumber()
                || !(v.get(0).asDouble() >= 1) || !(v.get(1).asDouble() >= v.get(0).asDouble())) {
            throw typeError(source, GUIDANCE_RANGE_KEY, "[min, max] with 1 <= min <= max", v);
        }
        return Optional.of(new GuidanceRange(v.get(0).asDouble(), v.get(1).asDouble()));
    }

    private static ModelFormatException typeError(String source, String key, String expected, JsonNode got) {
        String shown = got.toString();
        if (shown.length() > 60) {
            shown = shown.substring(0, 57) + "...";
        }
        return new ModelFormatException(source + ": " + key + " must be " + expected + ", got " + shown);
    }

    /** Each {@code root/students/NAME} holding a model_index.json, by name. */
    private static List<ModelIndex> students(Path root) {
        Path dir = root.resolve(STUDENTS_FOLDER);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(dir)) {
            List<ModelIndex> out = new ArrayList<>();
            for (Path child : children.sorted(Comparator.comparing(Path::toString)).toList()) {
                if (Files.isRegularFile(child.resolve(FILE))) {
                    out.add(read(child, false));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The model_index.json of a pipeline mdx trained: diffusers' component classes with {@code schedulerClass}, and
     * a note on where it came from; the stage adds its own keys with {@link #putStudentKeys}.
     */
    public static ObjectNode newJson(String note, String schedulerClass) {
        ObjectNode index = JsonConfig.MAPPER.createObjectNode();
        index.put("_class_name", "StableDiffusionPipeline");
        index.put(NOTE_KEY, note);
        index.putArray(SCHEDULER).add("diffusers").add(schedulerClass);
        index.putArray(TEXT_ENCODER).add("transformers").add("CLIPTextModel");
        index.putArray(TOKENIZER).add("transformers").add("CLIPTokenizer");
        index.putArray(UNET).add("diffusers").add("UNet2DConditionModel");
        index.putArray(VAE).add("diffusers").add("AutoencoderKL");
        return index;
    }

    /**
     * The keys of a few-step student.
     *
     * @param range the CFG scales a w-conditioned student learned, or null
     * @param teacher the folder it was distilled from, or null
     */
    public static void putStudentKeys(ObjectNode index, int steps, boolean needsCfg, GuidanceRange range,
            Path teacher) {
        index.put(STUDENT_STEPS_KEY, steps);
        index.put(NEEDS_CFG_KEY, needsCfg);
        if (range != null) {
            index.putArray(GUIDANCE_RANGE_KEY).add(range.min()).add(range.max());
        }
        if (teacher != null) {
            index.put(TEACHER_KEY, teacher.toAbsolutePath().toString());
        }
    }
}
