package dev.mdx.train.eval;

import dev.mdx.MdxException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What {@code mdx eval-edit} measures and how: a request, so a value out of range is the requester's error (an
 * {@link MdxException} naming the field), as with {@link EvalSettings}.
 *
 * @param model a diffusers pipeline folder (a bundled model resolved by the caller)
 * @param dataset an {@code mdx data} set: its test split gives the real images, its captions the prompts
 * @param classifier an {@code mdx train classifier} folder that scores the results
 * @param pairs (source class, prompted class) pairs: images of the source class edited with the prompt of the other
 * @param strengths image-to-image strengths, each in [0, 1]
 * @param stepSettings the models and step counts to compare (50 for the base model, 8 and 1 for its students)
 * @param images real images per pair, the same for every setting and strength; image i of a cell uses seed + i
 * @param seed seed of image 0
 * @param batch images per classifier forward pass
 * @param inpaint whether to also inpaint the top half of the same images (with the prompted class's prompt and, as
 *     a control, the source class's)
 * @param out output folder (edit.json, edit.md, a grid PNG per pair)
 * @param threads engine threads per operation, or null for the pipeline's choice per model size
 * @param gridColumns example images per grid row
 */
public record EditEvalSettings(Path model, Path dataset, Path classifier, List<ClassPair> pairs,
        List<Double> strengths, List<StepSetting> stepSettings, int images, long seed, int batch, boolean inpaint,
        Path out, Integer threads, int gridColumns) {
    /** The strengths issue 13 asks for. */
    public static final List<Double> DEFAULT_STRENGTHS = List.of(0.3, 0.5, 0.75, 0.9);
    /** The base model at 50 steps, its 8-step distilled student and its one-step UFOGen student. */
    public static final List<StepSetting> DEFAULT_STEP_SETTINGS = List.of(new StepSetting(50, true),
            new StepSetting(8, true), new StepSetting(1, true));
    public static final int DEFAULT_IMAGES = 32;
    public static final int DEFAULT_GRID_COLUMNS = 8;

    /** Images of class {@code source} edited with the prompt of class {@code target} (the data set's labels). */
    public record ClassPair(String source, String target) {
        public ClassPair {
            if (source == null || source.isBlank() || target == null || target.isBlank()) {
                throw new MdxException("a class pair needs a source and a target class, got '" + source + "' and '"
                        + target + "'");
            }
        }

        /** SOURCE:TARGET, e.g. {@code Trouser:Dress}. */
        public static ClassPair parse(String text) {
            int colon = text.indexOf(':');
            if (colon < 0 || text.indexOf(':', colon + 1) >= 0) {
                throw new MdxException("a class pair is SOURCE:TARGET (e.g. Trouser:Dress), got '" + text + "'");
            }
            return new ClassPair(text.substring(0, colon).trim(), text.substring(colon + 1).trim());
        }

        @Override
        public String toString() {
            return source + ":" + target;
        }
    }

    /**
     * A step count, and whether a student the model ships for it runs (as {@code mdx generate --steps N}) or the
     * base model ({@code --no-student}).
     */
    public record StepSetting(int steps, boolean useStudent) {
        public StepSetting {
            if (steps < 1) {
                throw new MdxException("steps must be at least 1, got " + steps);
            }
        }

        /** {@code N} (the student for N steps where the model ships one) or {@code N:base} (the base model). */
        public static StepSetting parse(String text) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            boolean base = t.endsWith(":base");
            String number = base ? t.substring(0, t.length() - ":base".length()) : t;
            try {
                return new StepSetting(Integer.parseInt(number), !base);
            } catch (NumberFormatException e) {
                throw new MdxException("a step setting is N or N:base (the base model even where a student ships for"
                        + " N), got '" + text + "'");
            }
        }

        @Override
        public String toString() {
            return steps + (useStudent ? "" : ":base");
        }
    }

    public EditEvalSettings {
        pairs = List.copyOf(pairs);
        strengths = List.copyOf(strengths);
        stepSettings = List.copyOf(stepSettings);
        if (pairs.isEmpty()) {
            throw new MdxException("give at least one class pair");
        }
        Set<String> seen = new HashSet<>();
        for (ClassPair p : pairs) {
            if (p.source().equalsIgnoreCase(p.target())) {
                throw new MdxException("the class pair " + p + " edits a class into itself");
            }
            if (!seen.add(p.toString().toLowerCase(Locale.ROOT))) {
                throw new MdxException("the class pair " + p + " is given twice");
            }
        }
        if (strengths.isEmpty()) {
            throw new MdxException("give at least one strength");
        }
        for (double s : strengths) {
            if (!(s >= 0 && s <= 1)) {
                throw new MdxException("strengths must be between 0 and 1, got " + s);
            }
        }
        if (stepSettings.isEmpty()) {
            throw new MdxException("give at least one step setting");
        }
        if (images < 1) {
            throw new MdxException("images per cell must be at least 1, got " + images);
        }
        if (batch < 1) {
            throw new MdxException("batch must be at least 1, got " + batch);
        }
        if (gridColumns < 1) {
            throw new MdxException("grid columns must be at least 1, got " + gridColumns);
        }
        if (seed < 0 || seed > Long.MAX_VALUE - images) {
            throw new MdxException("seed must be between 0 and " + (Long.MAX_VALUE - images) + ", got " + seed);
        }
    }
}
