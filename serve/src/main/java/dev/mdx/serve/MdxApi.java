package dev.mdx.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.pipeline.GenerationDefaults;
import dev.mdx.pipeline.GenerationPlan;
import dev.mdx.pipeline.Students;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.sampling.SamplerKind;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/**
 * What the web page needs beyond the generation APIs: the models with their defaults and students
 * ({@code GET /mdx/v1/models}) and a dry run that says what a request would run as ({@code POST /mdx/v1/plan}:
 * which student, the resolved values, warnings), without generating.
 */
final class MdxApi {
    private final Generator generator;

    MdxApi(Generator generator) {
        this.generator = generator;
    }

    void register(RoutesConfig routes) {
        routes.get("/mdx/v1/models", this::models);
        routes.post("/mdx/v1/plan", this::plan);
    }

    private void models(Context ctx) {
        ServeConfig config = generator.config();
        ObjectNode root = Fields.MAPPER.createObjectNode();
        root.put("default", generator.models().defaultName());
        ArrayNode list = root.putArray("models");
        for (String name : generator.models().names()) {
            TextToImagePipeline p = generator.models().get(name);
            GenerationDefaults d = p.defaults();
            ObjectNode m = list.addObject().put("name", name);
            m.putObject("defaults").put("width", d.width()).put("height", d.height()).put("steps", d.steps())
                    .put("cfg_scale", d.cfgScale()).put("sampler", d.sampler().cliName());
            ArrayNode students = m.putArray("students");
            for (Students.Student s : p.students()) {
                int steps = s.ufogen() ? 1 : s.steps();
                students.addObject().put("steps", steps).put("ufogen", s.ufogen())
                        .put("description", s.describe(steps))
                        .put("folder", Students.relativeName(p.folder().root(), s));
            }
        }
        ArrayNode samplers = root.putArray("samplers");
        for (SamplerKind k : SamplerKind.values()) {
            samplers.addObject().put("name", k.cliName()).put("label", k.a1111Name());
        }
        root.putObject("limits").put("max_images", config.maxImages()).put("max_steps", config.maxSteps())
                .put("max_prompt_chars", config.maxPromptChars());
        Responses.json(ctx, root);
    }

    /** The OpenAI-style body the page would send, planned but not run. */
    private void plan(Context ctx) {
        Fields f = Fields.parse(Responses.body(ctx, generator.config().maxBodyBytes()));
        GenerationPlan plan = generator.plan(OpenAiApi.ask(f, generator.config()));
        ObjectNode root = Fields.MAPPER.createObjectNode();
        root.set("parameters", Responses.parameters(plan.parameters()));
        int steps = plan.parameters().steps();
        if (plan.student().isPresent()) {
            root.put("student", plan.student().get().describe(steps));
        } else {
            root.putNull("student");
        }
        root.put("unet_calls", plan.totalSteps());
        root.set("notes", Fields.MAPPER.valueToTree(plan.notes()));
        root.set("warnings", Fields.MAPPER.valueToTree(plan.warnings()));
        Responses.json(ctx, root);
    }
}
