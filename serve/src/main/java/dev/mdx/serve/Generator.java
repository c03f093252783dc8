package dev.mdx.serve;

import dev.mdx.MdxException;
import dev.mdx.pipeline.GenerationParameters;
import dev.mdx.pipeline.GenerationPlan;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.InvalidRequestException;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.tensor.Precision;
import io.javalin.http.Context;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * What every API does with a generation request once it has read its own field names: check it against the
 * server's limits and the model, admit it to the queue, and wait for it, stopping it when the client leaves or the
 * request timeout passes. Errors name the field as the caller's API names it.
 */
final class Generator {
    /** A request in the library's terms, with the caller's names for its fields (library name -> API name). */
    record Ask(String model, GenerationRequest.Builder request, Map<String, String> fieldNames) {
        String name(String field) {
            return fieldNames.getOrDefault(field, field);
        }
    }

    private final ServeConfig config;
    private final ModelRegistry models;
    private final GenerationQueue queue;
    private final BooleanSupplier progressWatched;
    private final PrintStream log;

    Generator(ServeConfig config, ModelRegistry models, GenerationQueue queue, BooleanSupplier progressWatched,
            PrintStream log) {
        this.config = config;
        this.models = models;
        this.queue = queue;
        this.progressWatched = progressWatched;
        this.log = log;
    }

    /** A bug in mdx met while answering: the stack trace goes to the server's log, the caller gets a 500. */
    void logInternalError(String where, Throwable e) {
        synchronized (log) {
            log.println("mdx serve: internal error on " + where + ":");
            e.printStackTrace(log);
        }
    }

    ServeConfig config() {
        return config;
    }

    ModelRegistry models() {
        return models;
    }

    /** The request checked against the server's limits and planned on its model. */
    GenerationPlan plan(Ask ask) {
        TextToImagePipeline pipeline = models.get(ask.model());
        GenerationRequest request;
        try {
            request = ask.request().build();
        } catch (InvalidRequestException e) {
            throw invalid(ask, e);
        }
        checkPrompt(ask, "prompt", request.prompt());
        checkPrompt(ask, "negativePrompt", request.negativePrompt());
        if (request.batchCount() > config.maxImages()) {
            throw ApiException.badRequest(ask.name("batchCount"), "asks for " + request.batchCount()
                    + " images; this server makes at most " + config.maxImages() + " per request");
        }
        GenerationPlan plan;
        try {
            plan = pipeline.plan(request);
        } catch (InvalidRequestException e) {
            throw invalid(ask, e);
        }
        GenerationParameters p = plan.parameters();
        if ((long) p.width() * p.height() > config.maxPixels()) {
            throw ApiException.badRequest(ask.name("width"), p.width() + "x" + p.height() + " is larger than this"
                    + " server allows (" + config.maxPixels() + " pixels)");
        }
        if (p.steps() > config.maxSteps()) {
            throw ApiException.badRequest(ask.name("steps"), "steps " + p.steps() + " is more than this server"
                    + " allows (" + config.maxSteps() + ")");
        }
        return plan;
    }

    private void checkPrompt(Ask ask, String field, String text) {
        if (text.length() > config.maxPromptChars()) {
            throw ApiException.badRequest(ask.name(field), ask.name(field) + " is " + text.length()
                    + " characters long; this server takes at most " + config.maxPromptChars()
                    + " (the text encoder reads only its first 75 tokens anyway)");
        }
    }

    private static ApiException invalid(Ask ask, InvalidRequestException e) {
        String name = ask.name(e.field());
        return ApiException.badRequest(name, name + " " + e.problem());
    }

    /** Plans and admits a request; 4xx when it cannot run, 429 when the queue is full. */
    Job admit(Ask ask, Job.Listener listener) {
        GenerationPlan plan = plan(ask);
        TextToImagePipeline pipeline = models.get(ask.model());
        Job job = new Job(models.nameOf(pipeline), pipeline, plan, config.requestTimeout().toNanos(), listener,
                progressWatched);
        job.ahead = queue.submit(job);
        return job;
    }

    /** Admits and waits: the result, or the job's error; a client that leaves stops its job. */
    Job.Result generate(Context ctx, Ask ask) {
        Job job = admit(ask, Job.Listener.NONE);
        DisconnectWatch.start(ctx, () -> queue.stop(job, Job.Stop.CLIENT_GONE));
        return await(job);
    }

    /** Waits for a job until its deadline, then stops it; rethrows its error as it is. */
    Job.Result await(Job job) {
        try {
            long left = job.deadlineNanos - System.nanoTime();
            try {
                return job.done.get(Math.max(0, left), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                queue.stop(job, Job.Stop.TIMEOUT);
                // a running job stops after its current step
                return job.done.get();
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            queue.stop(job, Job.Stop.SHUTDOWN);
            throw new ApiException(503, "server_unavailable", null, "the server is shutting down");
        }
    }

    void stop(Job job, Job.Stop reason) {
        queue.stop(job, reason);
    }

    /**
     * The fields both API families name alike: negative_prompt, steps, cfg_scale, seed (negative or absent: random),
     * eta, and mdx's use_student.
     */
    static GenerationRequest.Builder sharedFields(Fields f, ServeConfig config) {
        GenerationRequest.Builder b = GenerationRequest.builder()
                .negativePrompt(f.string("negative_prompt", ""))
                .steps(f.integer("steps", 1, config.maxSteps()))
                .cfgScale(f.number("cfg_scale", 0, 100));
        Long seed = f.longValue("seed");
        b.seed(seed == null ? -1 : seed);
        Double eta = f.number("eta", 0, 1);
        if (eta != null) {
            b.eta(eta);
        }
        Boolean useStudent = f.bool("use_student");
        if (useStudent != null) {
            b.useStudent(useStudent);
        }
        String precision = f.string("precision");
        if (precision != null) {
            try {
                b.precision(Precision.parse(precision));
            } catch (MdxException e) {
                throw ApiException.badRequest("precision", e.getMessage());
            }
        }
        return b;
    }

    /**
     * A sampler by any of its names (mdx's, diffusers' class, A1111's); A1111's " Karras" suffix is accepted, the
     * model's scheduler config decides the sigmas.
     */
    static SamplerKind sampler(String param, String name) {
        if (name == null) {
            return null;
        }
        String plain = name.trim();
        if (plain.toLowerCase(Locale.ROOT).endsWith(" karras")) {
            plain = plain.substring(0, plain.length() - " karras".length());
        }
        try {
            return SamplerKind.parse(plain);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(param, param + ": " + e.getMessage());
        }
    }
}
