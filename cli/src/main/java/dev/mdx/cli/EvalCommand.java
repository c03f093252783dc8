package dev.mdx.cli;

import dev.mdx.io.BundledModels;
import dev.mdx.pipeline.InvalidRequestException;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.train.eval.EvalReport;
import dev.mdx.train.eval.EvalSettings;
import dev.mdx.train.eval.Evaluation;
import dev.mdx.train.eval.LabelSet;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Scores a text-to-image model on a data set's held-in and held-out prompts (docs/TRAINING.md, "mdx eval"). */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {"Generate images for held-in (train split) and held-out (test split) captions of an mdx data "
                + "set and score them: small-CLIP top-1/top-5 label retrieval among all labels, CLIP-feature FID "
                + "against real images of the same items, a classifier's accuracy (optional), time per image.",
            "Writes OUT/eval.json, OUT/eval.md and OUT/grid.png."},
        footer = {"", "Examples:",
            "  mdx eval fashion --dataset ../data-cache/fashion-mnist --images 100 -t 1 --out eval-fashion",
            "  mdx eval runs/unet/emoji/pipeline --dataset ../data-cache/emoji --clip models/emoji/clip --out eval"})
public final class EvalCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL",
            description = "A bundled model name (emoji, fashion) or a diffusers pipeline folder (as mdx generate -m).")
    String model;

    @Option(names = "--dataset", required = true, paramLabel = "DIR",
            description = "An mdx data set (mdx data emoji|fashion): prompts, labels and real images.")
    Path dataset;

    @Option(names = "--clip", paramLabel = "DIR",
            description = "Small CLIP folder written by mdx train clip (the clip/ folder of its run). Default: the "
                    + "model's clip/ folder, which the bundled models have.")
    Path clip;

    @Option(names = "--classifier", paramLabel = "DIR",
            description = "Classifier folder written by mdx train classifier (optional; Fashion-MNIST). Default: "
                    + "the model's classifier/ folder if it has one.")
    Path classifier;

    @Option(names = {"--sampling-method", "--sampler"}, paramLabel = "NAME",
            description = "Sampler: ddim, euler, euler_a, dpm++2m, lcm, ddpm, ufogen (default: the model's scheduler; "
                    + "DDIM for mdx's base models, UFOGen for a UFOGen student).")
    String sampler;

    @Option(names = "--steps", paramLabel = "N",
            description = "Sampling steps (default: the model's: 50, a distilled student's own count, 1 for UFOGen).")
    Integer steps;

    @Option(names = "--no-student", description = "Evaluate the base model even where --steps matches a few-step "
            + "student the model ships (students/), as mdx generate --no-student.")
    boolean noStudent;

    @Option(names = "--cfg-scale", paramLabel = "SCALE",
            description = "Classifier-free guidance scale (default: the model's: 7.5, or 1 (off) for UFOGen).")
    Double cfgScale;

    @Option(names = {"-s", "--seed"}, paramLabel = "N", defaultValue = "0",
            description = "Seed of the first image of each split; image i uses seed + i (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--images", paramLabel = "N", defaultValue = "100",
            description = "Images per split, a fixed sample of its items (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "64",
            description = "Images per CLIP or classifier forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--label-text", paramLabel = "KIND", defaultValue = "captions",
            description = "CLIP text of a label: 'captions' (mean embedding of the label's captions in the data set) "
                    + "or 'label' (the label itself) (default: ${DEFAULT-VALUE}).")
    String labelText;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Engine threads (default: all cores; use 1 when the machine is shared).")
    Integer threads;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Output folder.")
    Path out;

    @Option(names = "--precision", paramLabel = "P", defaultValue = "fp32",
            description = "fp32 or bf16 for the generation, as in generate (default: ${DEFAULT-VALUE}).")
    String precision;

    @Override
    public void run() {
        if (steps != null && steps < 1) {
            throw new UsageException("--steps must be at least 1, got " + steps);
        }
        if (images < 2) {
            throw new UsageException("--images must be at least 2 (a Frechet distance needs two), got " + images);
        }
        if (batch < 1) {
            throw new UsageException("--batch must be at least 1, got " + batch);
        }
        if (cfgScale != null && (!(cfgScale >= 0) || Double.isInfinite(cfgScale))) {
            throw new UsageException("--cfg-scale must be a number >= 0, got " + cfgScale);
        }
        SamplerKind kind = null;
        try {
            kind = sampler == null ? null : SamplerKind.parse(sampler);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--sampling-method: " + e.getMessage());
        }
        LabelSet.LabelText text = switch (labelText.toLowerCase(Locale.ROOT)) {
            case "captions" -> LabelSet.LabelText.CAPTIONS;
            case "label" -> LabelSet.LabelText.LABEL;
            default -> throw new UsageException("--label-text must be 'captions' or 'label', got '" + labelText + "'");
        };
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new UsageException("--out " + out + " is a file, not a folder");
        }
        Path modelDir = BundledModels.resolve(model);
        Path clipDir = clip != null ? clip : modelDir.resolve("clip");
        if (clip == null && !Files.isDirectory(clipDir)) {
            throw new UsageException("no CLIP to score with: pass --clip DIR (" + modelDir + " has no clip/ folder)");
        }
        Path classifierDir = classifier != null ? classifier
                : Files.isDirectory(modelDir.resolve("classifier")) ? modelDir.resolve("classifier") : null;
        Integer engineThreads = threads == null ? null : ThreadsFlag.check(threads);
        PrintStream log = System.out;
        EvalReport report;
        try {
            report = Evaluation.run(new EvalSettings(modelDir, dataset, clipDir, classifierDir, kind, steps, cfgScale, seed,
                    images, batch, text, out, !noStudent, engineThreads, PrecisionFlag.parse(precision)), log);
        } catch (InvalidRequestException e) {
            throw new UsageException(e.getMessage());
        }
        spec.commandLine().getOut().printf(Locale.ROOT, "%s%nwrote %s, %s and %s in %.0f s%n",
                report.toMarkdown().lines().filter(l -> l.startsWith("|")).reduce((a, b) -> a + "\n" + b).orElse(""),
                out.resolve(EvalReport.JSON), out.resolve(EvalReport.MARKDOWN), out.resolve("grid.png"),
                report.seconds());
    }
}
