package dev.mdx.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.pipeline.GenerationParameters;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.StepEvent;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OpenAI's images API: {@code POST /v1/images/generations} (prompt, n, size, response_format b64_json, model) with
 * mdx's own fields (negative_prompt, steps, seed, cfg_scale, sampler, eta, use_student) and, with
 * {@code "stream": true}, the progress as server-sent events; {@code GET /v1/models}.
 */
final class OpenAiApi {
    /** Library field -> this API's name for it, for error messages. */
    static final Map<String, String> FIELDS = Map.of("prompt", "prompt", "negativePrompt", "negative_prompt",
            "steps", "steps", "cfgScale", "cfg_scale", "seed", "seed", "width", "size", "height", "size",
            "batchCount", "n", "sampler", "sampler", "eta", "eta");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,5})x(\\d{1,5})");

    private final Generator generator;

    OpenAiApi(Generator generator) {
        this.generator = generator;
    }

    void register(RoutesConfig routes) {
        routes.post("/v1/images/generations", this::generations);
        routes.get("/v1/models", this::models);
    }

    /** The request of an OpenAI-style body; also read by the page's plan preview. */
    static Generator.Ask ask(Fields f, ServeConfig config) {
        if (!f.has("prompt")) {
            throw ApiException.badRequest("prompt", "prompt is required (an empty string draws without a prompt)");
        }
        String format = f.string("response_format", "b64_json");
        if (!format.equals("b64_json")) {
            throw ApiException.badRequest("response_format", "response_format '" + format + "' is not supported:"
                    + " images come back inline as b64_json");
        }
        String output = f.string("output_format", "png");
        if (!output.equals("png")) {
            throw ApiException.badRequest("output_format", "output_format '" + output + "' is not supported: images"
                    + " are PNGs carrying their generation parameters");
        }
        GenerationRequest.Builder b = Generator.sharedFields(f, config)
                .prompt(f.string("prompt"))
                .batchCount(f.integer("n", 1, config.maxImages(), 1))
                .sampler(Generator.sampler("sampler", f.string("sampler")));
        String size = f.string("size");
        if (size != null && !size.equals("auto")) {
            Matcher m = SIZE.matcher(size);
            if (!m.matches()) {
                throw ApiException.badRequest("size", "size must be WIDTHxHEIGHT such as 64x64, or auto, got '"
                        + size + "'");
            }
            b.size(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        }
        return new Generator.Ask(f.string("model"), b, FIELDS);
    }

    private void generations(Context ctx) {
        Fields f = Fields.parse(Responses.body(ctx, generator.config().maxBodyBytes()));
        Generator.Ask ask = ask(f, generator.config());
        if (Boolean.TRUE.equals(f.bool("stream"))) {
            stream(ctx, ask);
            return;
        }
        Job.Result r = generator.generate(ctx, ask);
        ObjectNode root = Fields.MAPPER.createObjectNode();
        root.put("created", System.currentTimeMillis() / 1000);
        ArrayNode data = root.putArray("data");
        for (int k = 0; k < r.pngs().size(); k++) {
            data.add(image(k, r.pngs().get(k), r.parameters()));
        }
        root.set("mdx", summary(r));
        Responses.json(ctx, root);
    }

    /** The response as server-sent events: mdx.queued, mdx.progress, image_generation.completed, mdx.done. */
    private void stream(Context ctx, Generator.Ask ask) {
        EventStream events = new EventStream(new StreamFormat());
        Job job = generator.admit(ask, events);
        events.queued(job.ahead);
        job.done.whenComplete((result, error) -> {
            if (error != null && !(error instanceof ApiException)) {
                generator.logInternalError("POST /v1/images/generations (stream)", error);
            }
            events.finish(result, error);
        });
        Runnable stop = () -> generator.stop(job, Job.Stop.CLIENT_GONE);
        DisconnectWatch.start(ctx, stop);
        events.pump(ctx, stop);
        ctx.attribute(MdxServer.OUTCOME, outcome(job));
    }

    private static String outcome(Job job) {
        if (!job.done.isCompletedExceptionally()) {
            return "ok";
        }
        return job.stop == null ? "error" : job.stop.name().toLowerCase(java.util.Locale.ROOT);
    }

    private static ObjectNode image(int k, byte[] png, GenerationParameters p) {
        ObjectNode item = Fields.MAPPER.createObjectNode();
        item.put("b64_json", Responses.base64(png));
        item.put("seed", p.seedOf(k));
        item.put("infotext", p.infotext(k));
        return item;
    }

    /** mdx's extra response fields: what ran, what to tell the user, where the time went. */
    static ObjectNode summary(Job.Result r) {
        ObjectNode mdx = Fields.MAPPER.createObjectNode();
        mdx.set("parameters", Responses.parameters(r.parameters()));
        mdx.set("notes", Fields.MAPPER.valueToTree(r.notes()));
        mdx.set("warnings", Fields.MAPPER.valueToTree(r.warnings()));
        mdx.put("queue_ms", Math.round(r.queueMs()));
        mdx.put("run_ms", Math.round(r.runMs()));
        mdx.put("batch_images", r.batchImages());
        mdx.put("interrupted", r.interrupted());
        return mdx;
    }

    private void models(Context ctx) {
        ObjectNode root = Fields.MAPPER.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (String name : generator.models().names()) {
            data.addObject().put("id", name).put("object", "model").put("created", 0).put("owned_by", "mdx");
        }
        Responses.json(ctx, root);
    }

    /** Event payloads; each names itself in {@code type}, which is also the SSE event name. */
    private static final class StreamFormat implements EventStream.Format {
        @Override
        public ObjectNode queued(int ahead) {
            return Fields.MAPPER.createObjectNode().put("type", "mdx.queued").put("ahead", ahead);
        }

        @Override
        public ObjectNode step(StepEvent e, byte[] previewPng) {
            ObjectNode o = Fields.MAPPER.createObjectNode().put("type", "mdx.progress")
                    .put("image_index", e.imageIndex()).put("images", e.imageCount())
                    .put("step", e.step() + 1).put("steps", e.totalSteps());
            if (previewPng != null) {
                o.put("preview_b64", Responses.base64(previewPng));
            }
            return o;
        }

        @Override
        public ObjectNode image(int index, byte[] png, GenerationParameters used) {
            ObjectNode o = OpenAiApi.image(index, png, used);
            o.put("type", "image_generation.completed");
            o.put("image_index", index);
            return o;
        }

        @Override
        public ObjectNode done(Job.Result r) {
            ObjectNode o = summary(r);
            o.put("type", "mdx.done");
            return o;
        }
    }
}
