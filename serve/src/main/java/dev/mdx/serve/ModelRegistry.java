package dev.mdx.serve;

import dev.mdx.MdxException;
import dev.mdx.io.BundledModels;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.StepCallback;
import dev.mdx.pipeline.Students;
import dev.mdx.pipeline.TextToImagePipeline;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The models a server holds, loaded once, by name (a bundled model's name, or a folder's name), with a default that
 * A1111 clients may change through {@code POST /sdapi/v1/options}.
 */
public final class ModelRegistry implements AutoCloseable {
    private final Map<String, TextToImagePipeline> models = new LinkedHashMap<>();
    private final AtomicReference<String> defaultName = new AtomicReference<>();

    private ModelRegistry() {}

    /**
     * Loads each model and its students' weights, then runs one one-step image on every variant, so the first
     * request pays neither loading nor the engine's first-call setup.
     */
    public static ModelRegistry load(List<String> specs, Integer threads) {
        ModelRegistry registry = new ModelRegistry();
        try {
            for (String spec : specs) {
                TextToImagePipeline.Builder b = TextToImagePipeline.builder(BundledModels.resolve(spec));
                if (threads != null) {
                    b.threads(threads);
                }
                TextToImagePipeline p = b.build();
                String name = p.config().modelName();
                if (registry.models.putIfAbsent(name, p) != null) {
                    p.close();
                    throw new MdxException("two models are named '" + name + "'; serve folders with different names");
                }
                warmUp(p);
            }
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        registry.defaultName.set(registry.models.keySet().iterator().next());
        return registry;
    }

    /** Holds already loaded pipelines (tests). */
    public static ModelRegistry of(Map<String, TextToImagePipeline> pipelines) {
        ModelRegistry registry = new ModelRegistry();
        registry.models.putAll(pipelines);
        registry.defaultName.set(pipelines.keySet().iterator().next());
        return registry;
    }

    private static void warmUp(TextToImagePipeline p) {
        List<GenerationRequest> requests = new ArrayList<>();
        requests.add(GenerationRequest.builder().prompt("warm up").steps(1).seed(0).useStudent(false).build());
        for (Students.Student s : p.students()) {
            requests.add(GenerationRequest.builder().prompt("warm up").steps(s.ufogen() ? 1 : s.steps()).seed(0)
                    .build());
        }
        for (GenerationRequest r : requests) {
            p.generate(p.plan(r), StepCallback.NONE, (k, image, used) -> { });
        }
    }

    /** The model of that name, or the default for null. */
    public TextToImagePipeline get(String name) {
        String wanted = name == null || name.isBlank() ? defaultName.get() : name;
        TextToImagePipeline p = models.get(wanted);
        if (p == null) {
            throw ApiException.notFound("model", "model '" + wanted + "' is not served here; models: "
                    + String.join(", ", models.keySet()));
        }
        return p;
    }

    /** The name a request without a model runs on. */
    public String defaultName() {
        return defaultName.get();
    }

    /** Makes {@code name} the default (A1111's sd_model_checkpoint). */
    public void setDefault(String name) {
        get(name);
        defaultName.set(name);
    }

    public List<String> names() {
        return List.copyOf(models.keySet());
    }

    /** The name a loaded pipeline is served under. */
    public String nameOf(TextToImagePipeline pipeline) {
        return models.entrySet().stream().filter(e -> e.getValue() == pipeline).map(Map.Entry::getKey).findFirst()
                .orElseThrow();
    }

    /** Native arrays all models hold now; flat between requests. */
    public long managedArrays() {
        return models.values().stream().mapToLong(TextToImagePipeline::managedArrayCount).sum();
    }

    @Override
    public void close() {
        models.values().forEach(TextToImagePipeline::close);
    }
}
