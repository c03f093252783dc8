package dev.mdx.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.pipeline.EditImages;
import dev.mdx.pipeline.GenerationParameters;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.GrayImage;
import dev.mdx.pipeline.ImageEdit;
import dev.mdx.pipeline.InvalidRequestException;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.prompt.EmbeddingLibrary;
import dev.mdx.prompt.TextualInversion;
import dev.mdx.sampling.SamplerKind;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Optional;

/**
 * AUTOMATIC1111's web UI API, with its field names: {@code POST /sdapi/v1/txt2img} and {@code /sdapi/v1/img2img},
 * {@code GET /sdapi/v1/samplers}, {@code /sd-models}, {@code /embeddings}, {@code /options} (and POST to pick the
 * default model),
 * {@code /progress} with the current preview, and {@code POST /sdapi/v1/interrupt}.
 */
final class A1111Api {
    static final Map<String, String> FIELDS = Map.ofEntries(Map.entry("prompt", "prompt"),
            Map.entry("negativePrompt", "negative_prompt"), Map.entry("steps", "steps"),
            Map.entry("cfgScale", "cfg_scale"), Map.entry("seed", "seed"), Map.entry("width", "width"),
            Map.entry("height", "height"), Map.entry("batchCount", "batch_size"), Map.entry("sampler", "sampler_name"),
            Map.entry("eta", "eta"), Map.entry("strength", "denoising_strength"), Map.entry("mask", "mask"),
            Map.entry("maskBlur", "mask_blur"), Map.entry("clipSkip", "CLIP_stop_at_last_layers"));
    private static final DateTimeFormatter JOB_TIMESTAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss")
            .withZone(ZoneOffset.UTC);
    /** How long after a progress poll the running jobs keep making previews. */
    private static final long WATCH_NANOS = 5_000_000_000L;

    private final Generator generator;
    private final GenerationQueue queue;
    private volatile long lastProgressPoll = System.nanoTime() - 2 * WATCH_NANOS;

    A1111Api(Generator generator, GenerationQueue queue) {
        this.generator = generator;
        this.queue = queue;
    }

    /** Whether a client polled /sdapi/v1/progress lately, so running jobs should make previews. */
    boolean progressWatched() {
        return System.nanoTime() - lastProgressPoll < WATCH_NANOS;
    }

    void register(RoutesConfig routes) {
        routes.post("/sdapi/v1/txt2img", this::txt2img);
        routes.post("/sdapi/v1/img2img", this::img2img);
        routes.get("/sdapi/v1/samplers", this::samplers);
        routes.get("/sdapi/v1/sd-models", this::sdModels);
        routes.get("/sdapi/v1/options", this::options);
        routes.get("/sdapi/v1/embeddings", this::embeddings);
        routes.post("/sdapi/v1/options", this::setOptions);
        routes.get("/sdapi/v1/progress", this::progress);
        routes.post("/sdapi/v1/interrupt", this::interrupt);
    }

    /** The txt2img fields, also the common part of img2img. */
    private Generator.Ask ask(Fields f) {
        ServeConfig config = generator.config();
        int batchSize = f.integer("batch_size", 1, config.maxImages(), 1);
        int iterations = f.integer("n_iter", 1, config.maxImages(), 1);
        String sampler = f.has("sampler_name") ? f.string("sampler_name") : f.string("sampler_index");
        GenerationRequest.Builder b = Generator.sharedFields(f, config)
                .prompt(f.string("prompt", ""))
                .width(f.integer("width", 1, 65536))
                .height(f.integer("height", 1, 65536))
                // A1111 runs n_iter batches of batch_size; images are numbered across both, seed + index each
                .batchCount(batchSize * iterations)
                .sampler(Generator.sampler(f.has("sampler_name") ? "sampler_name" : "sampler_index", sampler));
        Fields overrides = f.object("override_settings");
        String model = overrides == null ? null : overrides.string("sd_model_checkpoint");
        if (overrides != null) {
            // A1111's "Clip skip" setting, which a request overrides per call
            b.clipSkip(overrides.integer("CLIP_stop_at_last_layers", 1, 1000));
        }
        return new Generator.Ask(model, b, FIELDS);
    }

    private void txt2img(Context ctx) {
        Fields f = Fields.parse(Responses.body(ctx, generator.config().maxBodyBytes()));
        Generator.Ask ask = ask(f);
        respond(ctx, ask, f);
    }

    /**
     * img2img and inpainting: init_images[0] (resized and centre-cropped to width x height), an optional mask
     * (white repaints; the original pixels are pasted back outside it), denoising_strength and mask_blur, within
     * the upload limits. Edits run alone, never in a dynamic batch.
     */
    private void img2img(Context ctx) {
        Fields f = Fields.parse(Responses.body(ctx, generator.config().maxBodyBytes()));
        Generator.Ask ask = ask(f);
        Img2Img edit = Img2Img.read(f, generator.config());
        int maskBlur = f.integer("mask_blur", 0, ImageEdit.MAX_MASK_BLUR, ImageEdit.DEFAULT_MASK_BLUR);
        try {
            GrayImage mask = edit.mask() == null ? null : EditImages.luminance(edit.mask());
            ask.request().edit(new ImageEdit(edit.init(), mask, edit.strength(), maskBlur, true, null));
        } catch (InvalidRequestException e) {
            throw ApiException.badRequest(FIELDS.getOrDefault(e.field(), e.field()), e.getMessage());
        }
        respond(ctx, ask, f);
    }

    /** img2img's own fields. */
    record Img2Img(RgbImage init, RgbImage mask, double strength) {
        static Img2Img read(Fields f, ServeConfig config) {
            JsonNode images = f.raw("init_images");
            if (images == null || !images.isArray() || images.isEmpty()) {
                throw ApiException.badRequest("init_images", "init_images must be a list of one or more base64"
                        + " images");
            }
            if (!images.get(0).isTextual()) {
                throw ApiException.badRequest("init_images", "init_images[0] must be a base64 string");
            }
            RgbImage init = UploadedImage.decode("init_images[0]", images.get(0).asText(), config.maxUploadBytes(),
                    config.maxPixels());
            String maskText = f.string("mask");
            RgbImage mask = maskText == null ? null
                    : UploadedImage.decode("mask", maskText, config.maxUploadBytes(), config.maxPixels());
            if (mask != null && (mask.width() != init.width() || mask.height() != init.height())) {
                throw ApiException.badRequest("mask", "mask is " + mask.width() + "x" + mask.height() + " but the"
                        + " init image is " + init.width() + "x" + init.height());
            }
            Double strength = f.number("denoising_strength", 0, 1);
            return new Img2Img(init, mask, strength != null ? strength : 0.75);
        }
    }

    private void respond(Context ctx, Generator.Ask ask, Fields f) {
        Job.Result r = generator.generate(ctx, ask);
        GenerationParameters p = r.parameters();
        ObjectNode root = Fields.MAPPER.createObjectNode();
        ArrayNode images = root.putArray("images");
        r.pngs().forEach(png -> images.add(Responses.base64(png)));
        ObjectNode parameters = Responses.parameters(p);
        parameters.put("batch_size", f.has("batch_size") ? f.raw("batch_size").asInt() : 1);
        parameters.put("n_iter", f.has("n_iter") ? f.raw("n_iter").asInt() : 1);
        root.set("parameters", parameters);
        root.put("info", info(p, r));
        Responses.json(ctx, root);
    }

    /** A1111's info: a JSON object as a string, with every image's seed and infotext. */
    private static String info(GenerationParameters p, Job.Result r) {
        ObjectNode info = Fields.MAPPER.createObjectNode();
        int n = r.pngs().size();
        info.put("prompt", p.prompt());
        info.put("negative_prompt", p.negativePrompt());
        ArrayNode prompts = info.putArray("all_prompts");
        ArrayNode negatives = info.putArray("all_negative_prompts");
        ArrayNode seeds = info.putArray("all_seeds");
        ArrayNode texts = info.putArray("infotexts");
        for (int k = 0; k < n; k++) {
            prompts.add(p.prompt());
            negatives.add(p.negativePrompt());
            seeds.add(p.seedOf(k));
            texts.add(p.infotext(k));
        }
        info.put("seed", p.seed());
        info.put("subseed", -1);
        info.put("subseed_strength", 0);
        info.put("width", p.width());
        info.put("height", p.height());
        info.put("sampler_name", p.samplerName());
        info.put("cfg_scale", p.cfgScale());
        info.put("steps", p.steps());
        info.put("batch_size", p.batchCount());
        info.put("sd_model_name", p.model());
        info.put("eta", p.eta());
        info.put("index_of_first_image", 0);
        info.put("job_timestamp", JOB_TIMESTAMP.format(Instant.now()));
        info.put("interrupted", r.interrupted());
        info.set("warnings", Fields.MAPPER.valueToTree(r.warnings()));
        info.set("notes", Fields.MAPPER.valueToTree(r.notes()));
        info.put("version", "mdx");
        try {
            return Fields.MAPPER.writeValueAsString(info);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("info always serialises", e);
        }
    }

    /**
     * A1111's embedding list for the default model (or {@code ?model=NAME}): each usable embedding's vector count and
     * width, and the files it cannot use with the reason.
     */
    private void embeddings(Context ctx) {
        EmbeddingLibrary.Listing listing = generator.models().get(ctx.queryParam("model")).embeddings();
        ObjectNode o = Fields.MAPPER.createObjectNode();
        ObjectNode loaded = o.putObject("loaded");
        for (TextualInversion e : listing.usable()) {
            ObjectNode entry = loaded.putObject(e.name());
            entry.putNull("step");
            entry.putNull("sd_checkpoint");
            entry.putNull("sd_checkpoint_name");
            entry.put("shape", e.width());
            entry.put("vectors", e.count());
        }
        ObjectNode skipped = o.putObject("skipped");
        listing.skipped().forEach((k, why) -> skipped.putObject(k).put("reason", why));
        Responses.json(ctx, o);
    }

    private void samplers(Context ctx) {
        ArrayNode list = Fields.MAPPER.createArrayNode();
        for (SamplerKind k : SamplerKind.values()) {
            ObjectNode s = list.addObject();
            s.put("name", k.a1111Name());
            s.putArray("aliases").add(k.cliName()).add(k.diffusersClass());
            s.putObject("options");
        }
        Responses.json(ctx, list);
    }

    private void sdModels(Context ctx) {
        ArrayNode list = Fields.MAPPER.createArrayNode();
        for (String name : generator.models().names()) {
            TextToImagePipeline p = generator.models().get(name);
            list.addObject().put("title", name).put("model_name", name).putNull("hash").putNull("sha256")
                    .put("filename", p.folder().root().toAbsolutePath().toString()).putNull("config");
        }
        Responses.json(ctx, list);
    }

    private void options(Context ctx) {
        ObjectNode o = Fields.MAPPER.createObjectNode();
        o.put("sd_model_checkpoint", generator.models().defaultName());
        o.put("live_previews_enable", true);
        Responses.json(ctx, o);
    }

    /** Only sd_model_checkpoint is a setting here: it picks the model for requests that name none. */
    private void setOptions(Context ctx) {
        Fields f = Fields.parse(Responses.body(ctx, generator.config().maxBodyBytes()));
        String model = f.string("sd_model_checkpoint");
        if (model != null) {
            generator.models().setDefault(model);
        }
        Responses.json(ctx, Fields.MAPPER.nullNode());
    }

    private void progress(Context ctx) {
        lastProgressPoll = System.nanoTime();
        boolean skipImage = "true".equalsIgnoreCase(ctx.queryParam("skip_current_image"));
        Optional<Job> current = queue.oldestRunning();
        ObjectNode o = Fields.MAPPER.createObjectNode();
        double progress = current.map(Job::progress).orElse(0.0);
        o.put("progress", progress);
        double elapsed = current.map(j -> (System.nanoTime() - j.startedNanos) / 1e9).orElse(0.0);
        o.put("eta_relative", progress > 0 ? elapsed / progress - elapsed : 0);
        ObjectNode state = o.putObject("state");
        state.put("skipped", false);
        state.put("interrupted", current.map(j -> j.stop == Job.Stop.INTERRUPTED).orElse(false));
        state.put("job", current.map(j -> "job " + j.id).orElse(""));
        state.put("job_count", queue.length() + queue.runningCount());
        state.put("job_timestamp", current.map(j -> JOB_TIMESTAMP.format(Instant.now())).orElse("0"));
        state.put("job_no", 0);
        state.put("sampling_step", current.map(j -> j.completedSteps).orElse(0));
        state.put("sampling_steps", current.map(j -> j.totalSteps).orElse(0));
        byte[] preview = current.map(j -> j.latestPreview).orElse(null);
        if (preview != null && !skipImage) {
            o.put("current_image", Responses.base64(preview));
        } else {
            o.putNull("current_image");
        }
        o.putNull("textinfo");
        Responses.json(ctx, o);
    }

    private void interrupt(Context ctx) {
        int stopped = queue.interruptRunning();
        Responses.json(ctx, Fields.MAPPER.createObjectNode().put("interrupted", stopped));
    }
}
