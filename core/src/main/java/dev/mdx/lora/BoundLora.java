package dev.mdx.lora;

import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A LoRA file matched against a model: for every layer the weight it changes, and every tensor that changes
 * nothing (a layer the model does not have, a shape that does not fit, a tensor kind mdx does not apply), so
 * that a file is applied completely or, on request, with its leftovers listed, and never silently halfway.
 */
public final class BoundLora {
    /**
     * One weight change: {@code W += scale * ((up * alpha) / rank) @ down}, with up flattened to (out, rank) and
     * down to (rank, fanIn) and the product reshaped to the weight's shape (diffusers' fuse_lora; alpha null
     * leaves out the multiply and divide).
     */
    public record Delta(LoraPart part, String weightKey, Shape weightShape, String downKey, String upKey, int rank,
            Float alpha) {}

    /** Most unmatched layers a message lists; the rest are counted. */
    private static final int MAX_LISTED = 60;

    private final LoraFile file;
    private final List<Delta> deltas;
    /** Unmatched tensors, grouped by layer: a line per layer ("keys: reason"). */
    private final List<String> problems;
    private final int unmatchedTensors;
    private final Map<LoraPart, Integer> layersPerPart;

    private BoundLora(LoraFile file, List<Delta> deltas, List<String> problems, int unmatchedTensors,
            Map<LoraPart, Integer> layersPerPart) {
        this.file = file;
        this.deltas = List.copyOf(deltas);
        this.problems = List.copyOf(problems);
        this.unmatchedTensors = unmatchedTensors;
        this.layersPerPart = layersPerPart;
    }

    /**
     * Matches every layer of {@code file} to the layers of the given models.
     *
     * @param targets the LoRA-able layers of each model part present
     */
    public static BoundLora bind(LoraFile file, Map<LoraPart, LoraTargets> targets) {
        List<Delta> deltas = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        int unmatched = 0;
        Map<LoraPart, Integer> perPart = new EnumMap<>(LoraPart.class);
        Map<String, String> claimed = new LinkedHashMap<>();
        for (LoraFile.Layer layer : file.layers()) {
            LoraTargets t = targets.get(layer.part());
            LoraTargets.Target target = t == null ? null
                    : layer.format() == LoraFile.Format.KOHYA ? t.byKohyaName(layer.name()) : t.byPath(layer.name());
            String problem;
            if (t == null) {
                problem = "this model has no " + layer.part().displayName();
            } else if (target == null) {
                problem = "no layer '" + layer.name() + "' in the " + layer.part().displayName();
            } else {
                problem = shapeProblem(layer, target);
                String first = claimed.putIfAbsent(layer.part() + ":" + target.path(), layer.downKey());
                if (problem == null && first != null) {
                    problem = "a second LoRA for " + target.path() + " (the first is " + first + ")";
                }
            }
            if (problem != null) {
                problems.add(keys(layer.keys()) + ": " + problem);
                unmatched += layer.keys().size();
                continue;
            }
            deltas.add(new Delta(layer.part(), target.weightKey(), target.weightShape(), layer.downKey(),
                    layer.upKey(), layer.rank(), layer.alpha()));
            perPart.merge(layer.part(), 1, Integer::sum);
        }
        file.unrecognized().forEach((key, why) -> problems.add(key + ": " + why));
        unmatched += file.unrecognized().size();
        return new BoundLora(file, deltas, problems, unmatched, perPart);
    }

    /**
     * Why a layer's down (rank, fanIn...) and up (out, rank[, 1, 1]) do not fit the weight, or null when they do.
     * A conv LoRA's down has the conv's kernel (kohya's LoCon); a linear LoRA on a 1x1 conv fits (diffusers' linear
     * versus conv proj_in/proj_out).
     */
    private static String shapeProblem(LoraFile.Layer layer, LoraTargets.Target target) {
        Shape down = layer.down();
        Shape up = layer.up();
        Shape w = target.weightShape();
        String fit = "down " + down + " and up " + up + " do not fit " + target.path() + " " + w;
        if (down.dimension() < 2 || up.dimension() < 2 || down.get(0) < 1 || up.get(1) != down.get(0)) {
            return fit + " (down must be (rank, ...), up (out, rank, ...))";
        }
        if (up.get(0) != target.outFeatures() || up.size() != up.get(0) * up.get(1)) {
            return fit;
        }
        if (down.size() / down.get(0) != target.fanIn()) {
            return fit;
        }
        if (down.dimension() != 2 && down.dimension() != 4) {
            return fit;
        }
        if (down.dimension() == 4 && w.dimension() == 4
                && !Arrays.equals(down.slice(2).getShape(), w.slice(2).getShape())) {
            return fit + " (the down conv's kernel must be the layer's)";
        }
        boolean downPointwise = down.dimension() == 2 || down.slice(2).size() == 1;
        boolean weightPointwise = w.dimension() == 2 || w.slice(2).size() == 1;
        if (down.dimension() != w.dimension() && !(downPointwise && weightPointwise)) {
            return fit;
        }
        return null;
    }

    /** A layer's keys with their common start once: {@code lora_unet_x.{lora_down.weight, lora_up.weight, alpha}}. */
    static String keys(List<String> keys) {
        String first = keys.get(0);
        int common = first.length();
        for (String k : keys) {
            int i = 0;
            while (i < common && i < k.length() && k.charAt(i) == first.charAt(i)) {
                i++;
            }
            common = i;
        }
        int cut = first.lastIndexOf('.', common - 1) + 1;
        if (keys.size() < 2 || cut == 0) {
            return String.join(", ", keys);
        }
        return first.substring(0, cut) + "{" + String.join(", ", keys.stream().map(k -> k.substring(cut)).toList())
                + "}";
    }

    public LoraFile file() {
        return file;
    }

    public List<Delta> deltas() {
        return deltas;
    }

    /** The deltas of one part. */
    public List<Delta> deltas(LoraPart part) {
        return deltas.stream().filter(d -> d.part() == part).toList();
    }

    /** True when every tensor of the file changes a weight. */
    public boolean complete() {
        return unmatchedTensors == 0;
    }

    public int appliedTensors() {
        return file.tensorCount() - unmatchedTensors;
    }

    public int unmatchedTensors() {
        return unmatchedTensors;
    }

    /** One line per unmatched layer or tensor: its keys and why. */
    public List<String> problems() {
        return problems;
    }

    /** "405 of 405 tensors applied (117 UNet and 18 text encoder layers, kohya)". */
    public String summary() {
        List<String> parts = new ArrayList<>();
        layersPerPart.forEach((part, n) -> parts.add(n + " " + part.displayName()));
        List<String> formats = file.layers().stream().map(l -> l.format().displayName()).distinct().toList();
        return appliedTensors() + " of " + file.tensorCount() + " tensors applied ("
                + (parts.isEmpty() ? "no" : String.join(" and ", parts)) + " layers, " + String.join("+", formats)
                + ")";
    }

    /**
     * The problems as one message: the file, how many tensors match nothing, and the list.
     *
     * @param hint what the reader can do about it, appended as the last line (may be empty)
     */
    public String describeProblems(String hint) {
        StringBuilder s = new StringBuilder("LoRA ").append(file.path()).append(": ").append(unmatchedTensors)
                .append(" of its ").append(file.tensorCount()).append(" tensors match nothing in this model");
        if (deltas.isEmpty()) {
            s.append(" (none does: is it for another model family?)");
        }
        s.append(':');
        problems.stream().limit(MAX_LISTED).forEach(p -> s.append("\n    ").append(p));
        if (problems.size() > MAX_LISTED) {
            s.append("\n    ... and ").append(problems.size() - MAX_LISTED).append(" more");
        }
        if (!hint.isEmpty()) {
            s.append("\n  ").append(hint);
        }
        return s.toString();
    }
}
