package dev.mdx.cli;

import dev.mdx.MdxException;
import dev.mdx.io.BundledModels;
import dev.mdx.pipeline.InvalidRequestException;
import dev.mdx.train.eval.EditEvalSettings;
import dev.mdx.train.eval.EditEvaluation;
import dev.mdx.train.eval.EditReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Measures image to image and inpainting with a classifier (docs/EDITING.md, "mdx eval-edit"). */
@Command(name = "eval-edit", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {"Edit real test images of one class of an mdx data set with the prompt of another (image to "
                + "image at each strength and step setting; inpainting of the top half) and report, with a "
                + "classifier, the fraction of results in the source and in the prompted class.",
            "Writes OUT/edit.json, OUT/edit.md and one grid of examples per pair, OUT/grid-SOURCE-TARGET.png."},
        footer = {"", "Example:",
            "  mdx eval-edit fashion --dataset ../data-cache/fashion-mnist --pair Trouser:Dress --images 32 -t 1 "
                    + "-o edit-fashion"})
public final class EvalEditCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL",
            description = "A bundled model name (emoji, fashion) or a diffusers pipeline folder (as mdx generate -m).")
    String model;

    @Option(names = "--dataset", required = true, paramLabel = "DIR",
            description = "An mdx data set (mdx data fashion): its test split gives the real images, its captions "
                    + "the prompts.")
    Path dataset;

    @Option(names = "--classifier", paramLabel = "DIR",
            description = "Classifier folder written by mdx train classifier. Default: the model's classifier/ "
                    + "folder, which the bundled fashion model has.")
    Path classifier;

    @Option(names = "--pair", required = true, paramLabel = "SOURCE:TARGET",
            description = "Images of class SOURCE edited with the prompt of class TARGET (the data set's labels, "
                    + "any case; e.g. Trouser:Dress). Repeat for several pairs.")
    List<String> pairs;

    @Option(names = "--strengths", paramLabel = "S,S,...", defaultValue = "0.3,0.5,0.75,0.9",
            description = "Image-to-image strengths, each in [0, 1] (default: ${DEFAULT-VALUE}).")
    String strengths;

    @Option(names = "--steps", paramLabel = "N,N,...", defaultValue = "50,8,1",
            description = "Step settings: N runs the model's N-step student where it ships one (as mdx generate "
                    + "--steps N), N:base the base model at N steps (default: ${DEFAULT-VALUE}).")
    String steps;

    @Option(names = "--images", paramLabel = "N", defaultValue = "32",
            description = "Real images per pair, edited in every cell (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = {"-s", "--seed"}, paramLabel = "N", defaultValue = "0",
            description = "Seed of the first image; image i uses seed + i in every cell (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--no-inpaint", description = "Skip the inpainting rows (top half repainted).")
    boolean noInpaint;

    @Option(names = "--grid-columns", paramLabel = "N", defaultValue = "8",
            description = "Example images per grid row (default: ${DEFAULT-VALUE}).")
    int gridColumns;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "64",
            description = "Images per classifier forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Engine threads (default: the pipeline's choice per model size; use 1 when the machine is "
                    + "shared).")
    Integer threads;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Output folder.")
    Path out;

    @Override
    public void run() {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new UsageException("--out " + out + " is a file, not a folder");
        }
        Integer engineThreads = threads == null ? null : ThreadsFlag.check(threads);
        Path modelDir = BundledModels.resolve(model);
        Path classifierDir = classifier != null ? classifier : modelDir.resolve("classifier");
        if (classifier == null && !Files.isDirectory(classifierDir)) {
            throw new UsageException("no classifier to score with: pass --classifier DIR (" + modelDir
                    + " has no classifier/ folder)");
        }
        EditEvalSettings settings;
        try {
            List<EditEvalSettings.ClassPair> classPairs = new ArrayList<>();
            for (String p : pairs) {
                classPairs.add(EditEvalSettings.ClassPair.parse(p));
            }
            List<Double> strengthList = new ArrayList<>();
            for (String s : split(strengths, "--strengths")) {
                try {
                    strengthList.add(Double.parseDouble(s));
                } catch (NumberFormatException e) {
                    throw new UsageException("--strengths: '" + s + "' is not a number");
                }
            }
            List<EditEvalSettings.StepSetting> stepList = new ArrayList<>();
            for (String s : split(steps, "--steps")) {
                stepList.add(EditEvalSettings.StepSetting.parse(s));
            }
            settings = new EditEvalSettings(modelDir, dataset, classifierDir, classPairs, strengthList, stepList,
                    images, seed, batch, !noInpaint, out, engineThreads, gridColumns);
        } catch (MdxException e) {
            // the settings check only the flags' values
            throw new UsageException(e.getMessage());
        }
        EditReport report;
        try {
            report = EditEvaluation.run(settings, System.out);
        } catch (InvalidRequestException e) {
            throw new UsageException(e.getMessage());
        }
        spec.commandLine().getOut().printf(Locale.ROOT, "%s%nwrote %s, %s and %s in %.0f s%n",
                report.toMarkdown().lines().filter(l -> l.startsWith("|") || l.startsWith("- "))
                        .reduce((a, b) -> a + "\n" + b).orElse(""),
                out.resolve(EditReport.JSON), out.resolve(EditReport.MARKDOWN),
                String.join(", ", report.pairs().stream().map(p -> out.resolve(p.grid()).toString()).toList()),
                report.seconds());
    }

    private static List<String> split(String list, String flag) {
        List<String> out = new ArrayList<>();
        for (String s : list.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        if (out.isEmpty()) {
            throw new UsageException(flag + " needs at least one value");
        }
        return out;
    }
}
