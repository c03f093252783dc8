package dev.mdx.cli;

import dev.mdx.io.AtomicFiles;
import dev.mdx.io.BundledModels;
import dev.mdx.export.OnnxEngine;
import dev.mdx.pipeline.EditImages;
import dev.mdx.control.ConditionType;
import dev.mdx.lora.LoraSpec;
import dev.mdx.pipeline.ImageControl;
import dev.mdx.pipeline.GenerationParameters;
import dev.mdx.pipeline.GenerationPlan;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.GenerationResult;
import dev.mdx.pipeline.GrayImage;
import dev.mdx.pipeline.ImageEdit;
import dev.mdx.pipeline.InvalidRequestException;
import dev.mdx.pipeline.Padding;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.pipeline.ThreadPolicy;
import dev.mdx.sampling.SamplerKind;
import java.io.PrintWriter;
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
            "  mdx generate -m DIR -p \"a red fox\" -s 42 --sampling-method euler_a -o fox.png",
            "  mdx generate \"a red apple\" --steps 1 --lora style.safetensors:0.8",
            "  mdx generate \"a red apple <lora:style:0.8>\" --lora-dir DIR",
            "  mdx generate \"a (red:1.3) apple, [shiny], my-embedding\" --embd-dir DIR --clip-skip 2"})
public final class GenerateCommand implements Runnable {
    /** The request fields of {@link GenerationRequest} and the flags that set them, for error messages. */
    private static final Map<String, String> FLAGS = Map.ofEntries(
            Map.entry("prompt", "-p/--prompt"),
            Map.entry("negativePrompt", "-n/--negative-prompt"),
            Map.entry("steps", "--steps"),
            Map.entry("cfgScale", "--cfg-scale"),
            Map.entry("seed", "-s/--seed"),
            Map.entry("width", "-W/--width"),
            Map.entry("height", "-H/--height"),
            Map.entry("batchCount", "-b/--batch-count"),
            Map.entry("sampler", "--sampling-method"),
            Map.entry("eta", "--eta"),
            Map.entry("strength", "--strength"),
            Map.entry("mask", "--mask"),
            Map.entry("maskBlur", "--mask-blur"),
            Map.entry("outpaint", "--outpaint"),
            Map.entry("clipSkip", "--clip-skip"),
            Map.entry("control", "--control-image/--control-from"),
            Map.entry("controlScale", "--control-scale"),
            Map.entry("initImage", "-i/--init-img"),
            Map.entry("loras", "--lora"),
            Map.entry("vaeTiling", "--vae-tiling"));

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
            description = "Threads per operation, at most one per core (default: one per core; one for models under "
                    + ThreadPolicy.SINGLE_THREAD_GFLOP + " GFLOP per UNet call, such as the bundled ones).")
    Integer threads;

    @Option(names = "--eta", paramLabel = "ETA",
            description = "DDIM eta: 0 deterministic (default), 1 adds DDPM-like noise at each step.")
    Double eta;

    @Option(names = {"-i", "--init-img"}, paramLabel = "FILE",
            description = "Start from this image (image to image; with --mask, inpainting; with --outpaint, "
                    + "outpainting). Resized and centre-cropped to -W x -H (default: the model's size).")
    Path initImage;

    @Option(names = "--strength", paramLabel = "S",
            description = "How far the init image is noised, 0 to 1: 0 returns it through the VAE, 1 nearly ignores "
                    + "it (default: " + ImageEdit.IMG2IMG_STRENGTH + "; 1 for --mask and --outpaint).")
    Double strength;

    @Option(names = "--mask", paramLabel = "FILE",
            description = "Inpainting mask, the init image's size: white repaints, black keeps.")
    Path mask;

    @Option(names = "--mask-blur", paramLabel = "PX", defaultValue = "" + ImageEdit.DEFAULT_MASK_BLUR,
            description = "Feather the repainted area's edge over PX pixels inside the mask (default: "
                    + "${DEFAULT-VALUE}).")
    int maskBlur;

    @Option(names = "--no-paste-back", description = "Keep the decoded image outside the mask instead of pasting "
            + "the original pixels back (they then differ slightly, through the VAE).")
    boolean noPasteBack;

    @Option(names = "--outpaint", paramLabel = "L,T,R,B",
            description = "Grow the init image's canvas by these pixels on the left, top, right and bottom, and paint "
                    + "the new border.")
    String outpaint;

    @Option(names = "--precision", paramLabel = "P", description = "bf16 or fp32. Default: bf16 on CPUs with"
            + " AVX512-BF16 or AMX (convolutions, linear layers and attention in bfloat16, about 2x faster;"
            + " normalisations and the sampler in fp32), fp32 elsewhere; -Dmdx.precision in MDX_JAVA_OPTS changes"
            + " the default. bf16 asked for on a CPU without it runs fp32 with a note.")
    String precision;

    @Option(names = "--vae-tiling", description = "Decode the image in overlapping tiles of " + VAE_TILE_PIXELS
            + " pixels (less memory, faint seams); without it mdx tiles only when the whole decode would not fit.")
    boolean vaeTiling;

    /** Tile side of --vae-tiling in image pixels: diffusers' tile_sample_min_size for SD. */
    static final int VAE_TILE_PIXELS = 512;
    @Option(names = "--control-image", paramLabel = "FILE",
            description = "A ready condition map of the output's size (white edges or a white silhouette on black)"
                    + " that the model's control adapter follows.")
    Path controlImage;

    @Option(names = "--control-from", paramLabel = "FILE",
            description = "A photo whose condition map (--control-type) is extracted and followed.")
    Path controlFrom;

    @Option(names = "--control-type", paramLabel = "TYPE",
            description = "canny or mask: the map --control-from extracts and the adapter (MODEL/adapters/TYPE"
                    + ".safetensors) that reads it (default: the model's only adapter).")
    String controlType;

    @Option(names = {"--control-scale", "--control-strength"}, paramLabel = "S",
            description = "Multiplies the adapter's features: 0 off, 1 as trained (default), more follows harder.")
    Double controlScale;

    @Option(names = "--adapter", paramLabel = "FILE", description = "A control adapter file instead of the model's.")
    Path adapter;

    @Option(names = "--lora", paramLabel = "FILE[:SCALE]",
            description = "Apply a LoRA (.safetensors: kohya/A1111 incl. LoCon, diffusers or PEFT) to the UNet and "
                    + "the text encoder at SCALE (default 1); repeat for several. A prompt can also name one as "
                    + "<lora:NAME:SCALE>, looked up in --lora-dir.")
    List<String> loras = new ArrayList<>();

    @Option(names = {"--lora-dir", "--lora-model-dir"}, paramLabel = "DIR",
            description = "Folder in which a prompt's <lora:NAME:SCALE> finds NAME.safetensors (default: the model's "
                    + "loras/ folder).")
    Path loraDir;

    @Option(names = "--lora-lenient", description = "Apply the layers of a LoRA that match the model and list the "
            + "tensors that match nothing, instead of failing.")
    boolean loraLenient;

    @Option(names = {"--embd-dir", "--embedding-dir"}, paramLabel = "DIR",
            description = "Folder of textual-inversion embeddings (NAME.safetensors, A1111 or diffusers format); a "
                    + "prompt uses one by writing NAME (default: the model's embeddings/ folder).")
    Path embeddingDir;

    @Option(names = "--clip-skip", paramLabel = "N",
            description = "Condition on the text encoder's N-th layer from the end, as A1111: 1 = the last layer "
                    + "(default), 2 = the one before it.")
    Integer clipSkip;

    @Option(names = "--engine", paramLabel = "NAME", defaultValue = "torch",
            description = "torch (default: libtorch) or onnx: export the model (or the student --steps picks) to ONNX"
                    + " in a temporary folder and run its text encoder, UNet and decoder in ONNX Runtime (text to"
                    + " image with plain prompts; docs/EXPORT.md).")
    String engine;

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
        boolean onnx = switch (engine) {
            case "torch" -> false;
            case "onnx" -> true;
            default -> throw new UsageException("--engine must be torch or onnx, got '" + engine + "'");
        };
        SamplerKind sampler = samplingMethod == null ? null : parseSampler(samplingMethod);
        ImageEdit edit = edit();
        GenerationRequest request = request(sampler, text, edit);
        List<Path> outputs = outputPaths(output, request.batchCount());
        for (Path file : outputs) {
            AtomicFiles.checkWritable(file);
        }

        long start = System.nanoTime();
        Path modelDir = BundledModels.resolve(model);
        // configs only: the request is checked before any weights load
        TextToImagePipeline.Builder builder = TextToImagePipeline.builder(modelDir).loadWeightsNow(false)
                .loraDir(loraDir).embeddingDir(embeddingDir);
        if (threads != null) {
            builder.threads(ThreadsFlag.check(threads));
        }
        try (TextToImagePipeline pipeline = builder.build()) {
            GenerationPlan plan = plan(pipeline, request);
            for (String note : plan.notes()) {
                err.println("note: " + note);
            }
            if (plan.student().isPresent()) {
                err.println("note: --no-student runs the base model instead");
            }
            for (String warning : plan.warnings()) {
                err.println("warning: " + warning);
            }
            if (onnx) {
                runOnnx(plan, modelDir, outputs, out, err, start);
                return;
            }
            err.println("loading " + plan.config().modelName() + " (" + modelDir + ") ...");
            err.flush();
            pipeline.loadWeights(plan);
            double loadSeconds = secondsSince(start);
            GenerationParameters p = plan.parameters();
            out.printf(Locale.ROOT, "seed %d, %dx%d, %d steps of %s, CFG scale %s%n", p.seed(), p.width(),
                    p.height(), p.steps(), p.samplerName(), p.cfgScale());
            out.flush();
            GenerationResult result;
            try (StepProgress progress = StepProgress.create(err, plan.totalSteps())) {
                result = pipeline.generate(plan, progress, (k, image, used) -> {
                    Path file = outputs.get(k);
                    image.writePng(file, Map.of("parameters", used.infotext(k)));
                    out.printf(Locale.ROOT, "wrote %s (seed %d)%n", file, used.seedOf(k));
                    out.flush();
                });
            }
            double seconds = result.timings().unetTotalMs() / 1000;
            int unetSteps = result.timings().unetStepMs().size();
            out.printf(Locale.ROOT, "done in %.1f s: load %.1f s, text %.2f s, %d UNet steps %.1f s"
                    + " (%.2f it/s), decode %.2f s%n", secondsSince(start), loadSeconds,
                    result.timings().textEncoderMs() / 1000,
                    unetSteps, seconds, seconds > 0 ? unetSteps / seconds : 0, result.timings().decodeMs() / 1000);
        }
    }

    /** The plan through ONNX Runtime: the engine exports the planned model variant, then writes each image. */
    private static void runOnnx(GenerationPlan plan, Path modelDir, List<Path> outputs, PrintWriter out,
            PrintWriter err, long start) {
        try {
            OnnxEngine.requireSupported(plan);
        } catch (InvalidRequestException e) {
            throw flagError(e);
        }
        err.println("exporting " + plan.config().modelName() + " to ONNX ...");
        err.flush();
        try (OnnxEngine engine = OnnxEngine.forPlan(plan, modelDir, plan.threads())) {
            double loadSeconds = secondsSince(start);
            GenerationParameters p = plan.parameters();
            out.printf(Locale.ROOT, "seed %d, %dx%d, %d steps of %s, CFG scale %s, ONNX Runtime%n", p.seed(),
                    p.width(), p.height(), p.steps(), p.samplerName(), p.cfgScale());
            out.flush();
            OnnxEngine.Timings t = engine.generate(plan, (k, image, used) -> {
                Path file = outputs.get(k);
                image.writePng(file, Map.of("parameters", used.infotext(k)));
                out.printf(Locale.ROOT, "wrote %s (seed %d)%n", file, used.seedOf(k));
                out.flush();
            });
            double unet = t.unetTotalMs() / 1000;
            int unetSteps = t.unetStepMs().size();
            out.printf(Locale.ROOT, "done in %.1f s: export and load %.1f s, text %.2f s, %d UNet steps %.1f s"
                    + " (%.2f it/s), decode %.2f s%n", secondsSince(start), loadSeconds, t.textMs() / 1000, unetSteps,
                    unet, unet > 0 ? unetSteps / unet : 0, t.decodeMs() / 1000);
        }
    }

    /** The plan of the request; request errors become flag errors. */
    private static GenerationPlan plan(TextToImagePipeline pipeline, GenerationRequest request) {
        try {
            return pipeline.plan(request);
        } catch (InvalidRequestException e) {
            throw flagError(e);
        }
    }

    /** The init image, mask and edit settings from the flags, or null without -i. */
    private ImageEdit edit() {
        if (initImage == null) {
            for (Object flag : new Object[] {strength, mask, outpaint}) {
                if (flag != null) {
                    throw new UsageException("--strength, --mask and --outpaint edit an image: give it with"
                            + " -i/--init-img FILE");
                }
            }
            return null;
        }
        try {
            Padding padding = outpaint == null ? null : Padding.parse(outpaint);
            RgbImage image = EditImages.readRgb(initImage, "init image");
            GrayImage maskImage = mask == null ? null : EditImages.readMask(mask);
            return new ImageEdit(image, maskImage, strength, maskBlur, !noPasteBack, padding);
        } catch (InvalidRequestException e) {
            throw flagError(e);
        }
    }

    /** The request from the flags; unset ones are left to the model that runs it. */
    private GenerationRequest request(SamplerKind sampler, String text, ImageEdit edit) {
        try {
            return GenerationRequest.builder()
                    .prompt(text)
                    .negativePrompt(negativePrompt)
                    .seed(seed >= 0 ? seed : GenerationRequest.randomSeed())
                    .batchCount(batchCount)
                    .steps(steps)
                    .cfgScale(cfgScale)
                    .width(width)
                    .height(height)
                    .sampler(sampler)
                    .eta(eta != null ? eta : 0)
                    .useStudent(!noStudent)
                    .edit(edit)
                    .vaeTilePixels(vaeTiling ? VAE_TILE_PIXELS : null)
                    .loras(loraSpecs())
                    .loraLenient(loraLenient)
                    .precision(PrecisionFlag.parse(precision))
                    .clipSkip(clipSkip)
                    .control(control())
                    .build();
        } catch (InvalidRequestException e) {
            throw flagError(e);
        }
    }

    /** The control flags as a request field, or null without --control-image/--control-from. */
    private ImageControl control() {
        if (controlImage == null && controlFrom == null) {
            if (controlType != null || controlScale != null || adapter != null) {
                throw new UsageException("--control-type, --control-scale and --adapter steer a control adapter:"
                        + " give a map with --control-image FILE or a photo with --control-from FILE");
            }
            return null;
        }
        if (controlImage != null && controlFrom != null) {
            throw new UsageException("give either --control-image (a ready map) or --control-from (a photo), not"
                    + " both");
        }
        ConditionType type;
        try {
            type = controlType == null ? null : ConditionType.parse(controlType);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--control-type: " + e.getMessage());
        }
        double scale = controlScale != null ? controlScale : ImageControl.DEFAULT_SCALE;
        ImageControl c = controlImage != null ? ImageControl.map(ImageControl.readMap(controlImage), type, scale)
                : ImageControl.extract(EditImages.readRgb(controlFrom, "control photo"), type, scale);
        return adapter == null ? c : c.withAdapter(adapter);
    }

    private List<LoraSpec> loraSpecs() {
        List<LoraSpec> specs = new ArrayList<>();
        for (String value : loras) {
            try {
                specs.add(LoraSpec.parse(value));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--lora " + e.getMessage());
            }
        }
        return specs;
    }

    private static UsageException flagError(InvalidRequestException e) {
        return new UsageException(FLAGS.getOrDefault(e.field(), e.field()) + " " + e.problem());
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
        if (Files.isDirectory(output)) {
            throw new UsageException("-o/--output: " + output + " is a folder (give a file name such as "
                    + output.resolve("output.png") + ")");
        }
        if (Files.exists(output) && !Files.isRegularFile(output)) {
            throw new UsageException("-o/--output: " + output + " is a device or other special file; give the name"
                    + " of a PNG file to write");
        }
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

    private static double secondsSince(long nanoStart) {
        return (System.nanoTime() - nanoStart) / 1e9;
    }
}
