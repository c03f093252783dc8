package dev.mdx.cli;

import dev.mdx.inspect.UNetCost;
import dev.mdx.io.BundledModels;
import dev.mdx.io.ModelFolder;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.GenerationResult;
import dev.mdx.pipeline.InvalidRequestException;
import dev.mdx.pipeline.PipelineConfig;
import dev.mdx.pipeline.Students;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.tensor.EngineThreads;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Text to image: parses flags into a request, runs the pipeline with a progress display, writes PNGs. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false, sortSynopsis = false,
        usageHelpAutoWidth = true,
        description = {"Generate images from a text prompt with a bundled model or a diffusers-layout model folder.",
            "Unset options take the model folder's defaults: its UNet's image size, its scheduler's sampler, "
                    + "50 steps and CFG scale 7.5 (4 steps for LCM and 1 for UFOGen models, without guidance).",
            "Every PNG carries its parameters in an A1111-style 'parameters' text chunk."},
        footer = {"", "Examples:", "  mdx generate \"a red apple\"                      (the bundled emoji model)",
            "  mdx generate -m fashion \"a photo of a sneaker\" -s 42 -b 4",
            "  mdx generate -m DIR -p \"a red fox\" -s 42 --sampling-method euler_a -o fox.png"})
public final class GenerateCommand implements Runnable {
    /** UNet calls cheaper than this run on one engine thread unless -t says otherwise. */
    static final int SINGLE_THREAD_GFLOP = 10;

    /** The request fields of {@link GenerationRequest} and the flags that set them, for error messages. */
    private static final Map<String, String> FLAGS = Map.of(
            "prompt", "-p/--prompt", "negativePrompt", "-n/--negative-prompt", "steps", "--steps",
            "cfgScale", "--cfg-scale", "seed", "-s/--seed", "width", "-W/--width", "height", "-H/--height",
            "batchCount", "-b/--batch-count", "sampler", "--sampling-method", "eta", "--eta");

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "A bundled model by name (emoji, the default; fashion) or a diffusers pipeline folder "
                    + "(model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/).")
    String model;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "What to draw.")
    String prompt;

    @Parameters(arity = "0..1", paramLabel = "PROMPT", description = "What to draw (instead of -p).")
    String positionalPrompt;

    @Option(names = "--no-student", description = "Use the base model even where --steps matches a few-step "
            + "student the model ships (students/: a distilled 8-step or a UFOGen 1-step UNet).")
    boolean noStudent;

    @Option(names = {"-n", "--negative-prompt"}, paramLabel = "TEXT", defaultValue = "",
            description = "What to steer away from (used when --cfg-scale > 1).")
    String negativePrompt;

    @Option(names = "--steps", paramLabel = "N", description = "Sampling steps (default: the model's, usually 50).")
    Integer steps;

    @Option(names = "--cfg-scale", paramLabel = "SCALE",
            description = "Classifier-free guidance scale (default: the model's, usually 7.5); 1 or less turns "
                    + "guidance off, the setting for 1- to 8-step distilled models.")
    Double cfgScale;

    @Option(names = {"-s", "--seed"}, paramLabel = "N", defaultValue = "-1",
            description = "Seed of the first image; image k of a batch uses seed + k. Negative picks a random one "
                    + "(default: ${DEFAULT-VALUE}). The seed used is printed and stored in the PNG.")
    long seed;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "output.png",
            description = "PNG to write (default: ${DEFAULT-VALUE}); with --batch-count N, FILE_1.png ... FILE_N.png.")
    Path output;

    @Option(names = {"-W", "--width"}, paramLabel = "PX",
            description = "Image width, a multiple of the VAE factor (8 for SD) (default: the model's).")
    Integer width;

    @Option(names = {"-H", "--height"}, paramLabel = "PX",
            description = "Image height, a multiple of the VAE factor (8 for SD) (default: the model's).")
    Integer height;

    @Option(names = {"-b", "--batch-count"}, paramLabel = "N", defaultValue = "1",
            description = "Images to generate one after the other (default: ${DEFAULT-VALUE}).")
    int batchCount;

    @Option(names = "--sampling-method", paramLabel = "NAME",
            description = "Sampler: ddim, euler, euler_a, dpm++2m, lcm, ddpm, ufogen, or a diffusers scheduler class "
                    + "name such as EulerAncestralDiscreteScheduler (default: the model folder's scheduler).")
    String samplingMethod;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Threads per operation (default: one per core; one for models under "
                    + SINGLE_THREAD_GFLOP + " GFLOP per UNet call, such as the bundled ones).")
    Integer threads;

    @Option(names = "--eta", paramLabel = "ETA",
            description = "DDIM eta: 0 deterministic (default), 1 adds DDPM-like noise at each step.")
    Double eta;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (prompt != null && positionalPrompt != null) {
            throw new UsageException("two prompts given: pass the prompt either as -p/--prompt TEXT or as the"
                    + " argument, not both");
        }
        String text = prompt != null ? prompt : positionalPrompt;
        if (text == null) {
            throw new UsageException("no prompt given: pass -p/--prompt TEXT (or the prompt as the argument)");
        }
        SamplerKind sampler = samplingMethod == null ? null : parseSampler(samplingMethod);
        ThreadsFlag.apply(threads);
        if (Files.isDirectory(output)) {
            throw new UncheckedIOException("cannot write " + output + ": it is a folder (give a file name such as "
                    + output.resolve("output.png") + ")", new IOException("is a folder"));
        }
        List<Path> outputs = outputPaths(output, Math.max(batchCount, 1));

        Path modelDir = studentOrBase(BundledModels.resolve(model), err);
        ModelFolder folder = ModelFolder.open(modelDir);
        PipelineConfig config = PipelineConfig.read(folder);
        GenerationRequest request = request(config, sampler, text);
        if (threads == null) {
            defaultThreads(config, request);
        }
        for (Path file : outputs) {
            checkWritable(file);
        }
        for (String note : config.notes()) {
            err.println("note: " + note);
        }

        long start = System.nanoTime();
        err.println("loading " + folder.root() + " ...");
        err.flush();
        try (TextToImagePipeline pipeline = TextToImagePipeline.builder(modelDir).build()) {
            double loadSeconds = secondsSince(start);
            for (String warning : pipeline.check(request)) {
                err.println("warning: " + warning);
            }
            out.printf(Locale.ROOT, "seed %d, %dx%d, %d steps of %s, CFG scale %s%n", request.seed(),
                    request.width(), request.height(), request.steps(), config.samplerDisplayName(request.sampler()),
                    request.cfgScale());
            out.flush();
            GenerationResult result;
            try (StepProgress progress = StepProgress.create(err, request.batchCount() * request.steps())) {
                result = pipeline.generate(request, progress);
            }
            for (int k = 0; k < result.images().size(); k++) {
                Path file = outputs.get(k);
                result.images().get(k).writePng(file, Map.of("parameters", result.infotext(k)));
                out.printf(Locale.ROOT, "wrote %s (seed %d)%n", file, result.parameters().seedOf(k));
            }
            double unetSeconds = result.timings().unetTotalMs() / 1000;
            out.printf(Locale.ROOT, "done in %.1f s: load %.1f s, text %.2f s, %d UNet steps %.1f s (%.2f it/s),"
                    + " decode %.2f s%n", secondsSince(start), loadSeconds, result.timings().textEncoderMs() / 1000,
                    result.timings().unetStepMs().size(), unetSeconds,
                    unetSeconds > 0 ? result.timings().unetStepMs().size() / unetSeconds : 0,
                    result.timings().decodeMs() / 1000);
        }
    }

    /**
     * Without -t: one engine thread for a UNet call under {@value #SINGLE_THREAD_GFLOP} GFLOP, where a second thread
     * costs more in hand-offs than it gains (the bundled emoji model: 20 it/s on one thread, 12 on two,
     * docs/BENCHMARKS.md), else the engine's default of one thread per core.
     */
    private static void defaultThreads(PipelineConfig config, GenerationRequest request) {
        int factor = config.vae().downsampleFactor();
        long flops = UNetCost.of(config.unet(), config.unetBatch(request), request.height() / factor,
                request.width() / factor, config.textEncoder().maxPositionEmbeddings()).flops();
        if (flops < SINGLE_THREAD_GFLOP * 1e9) {
            EngineThreads.set(1);
        }
    }

    /** With --steps N, the model's student made for N steps (students/NAME) if it ships one and --no-student is unset. */
    private Path studentOrBase(Path modelDir, PrintWriter err) {
        if (steps == null || noStudent) {
            return modelDir;
        }
        return Students.forSteps(modelDir, steps).map(s -> {
            err.println("note: --steps " + steps + ": using " + s.describe() + " (" + modelDir.relativize(s.dir())
                    + "); --no-student for the base model");
            return s.dir();
        }).orElse(modelDir);
    }

    /** The request from the flags, unset ones from the model; field errors become flag errors. */
    private GenerationRequest request(PipelineConfig config, SamplerKind sampler, String text) {
        try {
            GenerationRequest.Builder b = config.newRequest()
                    .prompt(text)
                    .negativePrompt(negativePrompt)
                    .seed(seed >= 0 ? seed : GenerationRequest.randomSeed())
                    .batchCount(batchCount);
            if (steps != null) {
                b.steps(steps);
            }
            if (cfgScale != null) {
                b.cfgScale(cfgScale);
            }
            if (width != null) {
                b.width(width);
            }
            if (height != null) {
                b.height(height);
            }
            if (sampler != null) {
                b.sampler(sampler);
            }
            if (eta != null) {
                b.eta(eta);
            }
            GenerationRequest request = b.build();
            config.validate(request);
            return request;
        } catch (InvalidRequestException e) {
            throw new UsageException(FLAGS.getOrDefault(e.field(), e.field()) + " " + e.problem());
        }
    }

    private static SamplerKind parseSampler(String name) {
        try {
            return SamplerKind.parse(name);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--sampling-method: " + e.getMessage());
        }
    }

    /** output.png, or output_1.png ... output_N.png for a batch; PNG is the only format written. */
    static List<Path> outputPaths(Path output, int count) {
        String name = output.getFileName() == null ? "" : output.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot + 1) : "";
        if (stem.isEmpty()) {
            throw new UsageException("-o/--output needs a file name, got '" + output + "'");
        }
        if (!ext.isEmpty() && !ext.equalsIgnoreCase("png")) {
            throw new UsageException("-o/--output: mdx writes PNG images; give a name ending in .png, got '"
                    + output + "'");
        }
        String suffix = ext.isEmpty() ? ".png" : "." + ext;
        List<Path> paths = new ArrayList<>();
        for (int k = 1; k <= count; k++) {
            String file = count == 1 ? stem + suffix : stem + "_" + k + suffix;
            paths.add(output.resolveSibling(file));
        }
        return paths;
    }

    /** Fails before the long run if a file cannot be written: its folder is a file, or not writable. */
    static void checkWritable(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        String problem = null;
        if (Files.isDirectory(abs)) {
            problem = "it is a folder";
        } else {
            Path existing = abs.getParent();
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            if (existing == null) {
                problem = "no part of its folder exists";
            } else if (!Files.isDirectory(existing)) {
                problem = existing + " is a file, not a folder";
            } else if (!Files.isWritable(existing)) {
                problem = "no permission to write in " + existing;
            } else if (Files.exists(abs) && !Files.isWritable(abs)) {
                problem = "the file exists and is read-only";
            }
        }
        if (problem != null) {
            throw new UncheckedIOException("cannot write " + file + ": " + problem, new IOException(problem));
        }
    }

    private static double secondsSince(long nanoStart) {
        return (System.nanoTime() - nanoStart) / 1e9;
    }
}
