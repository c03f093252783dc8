package dev.mdx.pipeline;

import ai.djl.ndarray.NDManager;
import dev.mdx.control.AdapterConfig;
import dev.mdx.control.AdapterMismatchException;
import dev.mdx.control.ConditionType;
import dev.mdx.control.ControlAdapter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Resolves a request's {@link ImageControl}: finds the adapter (the request's file, or the model's
 * {@code adapters/TYPE.safetensors}), loads it once per file, checks it fits the UNet that runs, and makes the
 * condition map at the output size (extracted from a photo, or a ready map checked for size).
 */
final class ControlPlanner {
    /** The folder of a model's adapters, beside its {@code loras/}. */
    static final String ADAPTER_DIR = "adapters";
    private final Path adapterDir;
    private final NDManager weights;
    private final Map<Path, ControlAdapter> loaded = new HashMap<>();

    ControlPlanner(Path modelRoot, NDManager weights) {
        this.adapterDir = modelRoot.resolve(ADAPTER_DIR);
        this.weights = weights;
    }

    /** The control of {@code request} for an output of w x h on {@code variant}, or null without one. */
    PlannedControl plan(ImageControl control, ModelVariant variant, int w, int h, List<String> notes) {
        if (control == null) {
            return null;
        }
        Path file = control.adapter() != null ? control.adapter() : find(control.type());
        ControlAdapter adapter = load(file);
        AdapterConfig config = adapter.config();
        PipelineConfig model = variant.config();
        try {
            config.requireFits(model.unet(), model.vaeScaleFactor(), "the adapter " + file.getFileName());
        } catch (AdapterMismatchException e) {
            throw new InvalidRequestException("control", "cannot run: " + e.getMessage());
        }
        if (control.type() != null && control.type() != config.condition()) {
            throw new InvalidRequestException("control", "cannot run: the adapter " + file.getFileName() + " reads "
                    + config.condition() + " maps, not " + control.type());
        }
        if (w % config.downscaleFactor() != 0 || h % config.downscaleFactor() != 0) {
            throw new InvalidRequestException("control", "needs an output size divisible by "
                    + config.downscaleFactor() + ", got " + w + "x" + h);
        }
        GrayImage map;
        if (control.map() != null) {
            map = control.map();
            if (map.width() != w || map.height() != h) {
                throw new InvalidRequestException("control", "image is " + map.width() + "x" + map.height()
                        + " but the output is " + w + "x" + h + ": give a map of the output's size, or a photo to"
                        + " extract one from (--control-from)");
            }
        } else {
            EditImages.Fitted<RgbImage> fitted = EditImages.fit(control.source(), w, h, "control source");
            if (fitted.note() != null) {
                notes.add(fitted.note());
            }
            map = config.condition().extract(fitted.image());
        }
        notes.add("control: " + config.condition() + " adapter " + file.getFileName() + " at scale "
                + GenerationParameters.number(control.scale()));
        return new PlannedControl(adapter, file, map, control.scale(), control.map() == null);
    }

    /** The model's adapter of {@code type}, or its only adapter when type is null. */
    private Path find(ConditionType type) {
        if (type != null) {
            Path file = adapterDir.resolve(type.cliName() + ".safetensors");
            if (!Files.isRegularFile(file)) {
                throw new InvalidRequestException("control", "needs an adapter: this model has no " + type
                        + " adapter (" + file + ")" + available());
            }
            return file;
        }
        List<Path> all = list();
        if (all.size() != 1) {
            throw new InvalidRequestException("control", all.isEmpty() ? "needs an adapter: this model ships none"
                    + " (" + adapterDir + "); give one with --adapter FILE"
                    : "type is ambiguous: name one with --control-type" + available());
        }
        return all.get(0);
    }

    private String available() {
        List<Path> all = list();
        return all.isEmpty() ? "" : " (it has: " + String.join(", ", all.stream().map(p -> p.getFileName()
                .toString().replace(".safetensors", "")).toList()) + ")";
    }

    private List<Path> list() {
        if (!Files.isDirectory(adapterDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(adapterDir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private synchronized ControlAdapter load(Path file) {
        Path key = file.toAbsolutePath().normalize();
        ControlAdapter a = loaded.get(key);
        if (a == null) {
            try (NDManager loading = weights.newSubManager()) {
                a = ControlAdapter.load(file, loading);
                loading.getManagedArrays().forEach(x -> x.attach(weights));
            }
            loaded.put(key, a);
        }
        return a;
    }
}
