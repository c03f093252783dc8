package dev.mdx.export;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.pipeline.GenerationParameters;
import dev.mdx.pipeline.GenerationPlan;
import dev.mdx.pipeline.ImageCallback;
import dev.mdx.pipeline.Images;
import dev.mdx.pipeline.InvalidRequestException;
import dev.mdx.pipeline.NonFiniteValuesException;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.prompt.ChunkedPrompt;
import dev.mdx.sampling.Sampler;
import dev.mdx.sampling.SamplerState;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.sampling.StepResult;
import dev.mdx.tensor.NoiseSource;
import dev.mdx.unet.Guidance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Text to image with the networks in ONNX Runtime: the plan mdx made for a request (model variant, seeds, sampler,
 * timesteps, guidance, tokenized prompts) is run with the exported text encoder, UNet and VAE decoder graphs, while
 * the sampler's arithmetic is mdx's own, so an image differs from the default engine's only by the graphs' rounding.
 * Text to image with plain prompts only: edits, control, LoRA, weighted, long or embedding prompts and clip skip
 * are refused by name.
 */
public final class OnnxEngine implements AutoCloseable {
    /** The temporary export the graphs were loaded from, deleted on close. */
    private final Path dir;
    private final OrtGraph text;
    private final OrtGraph unet;
    private final OrtGraph vae;

    private OnnxEngine(Path dir, int threads) {
        this.dir = dir;
        this.text = OrtGraph.load(dir.resolve(OnnxExport.TEXT_ENCODER_FILE), threads);
        this.unet = OrtGraph.load(dir.resolve(OnnxExport.UNET_FILE), threads);
        this.vae = OrtGraph.load(dir.resolve(OnnxExport.VAE_DECODER_FILE), threads);
    }

    /**
     * Exports the pipeline folder the plan runs (its student, else {@code baseModel}) to a temporary folder in fp32
     * and loads the graphs; the folder is deleted on {@link #close}.
     */
    public static OnnxEngine forPlan(GenerationPlan plan, Path baseModel, int threads) {
        Path variant = plan.student().map(s -> s.dir()).orElse(baseModel);
        Path tmp;
        try {
            tmp = Files.createTempDirectory("mdx-onnx-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary folder for the ONNX export", e);
        }
        try {
            OnnxExport.export(variant, tmp, OnnxPrecision.FP32);
            return new OnnxEngine(tmp, threads);
        } catch (RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    public Path dir() {
        return dir;
    }

    /** Where a run's time went, in milliseconds: text encoder, every UNet step (with guidance), decoder. */
    public record Timings(double textMs, List<Double> unetStepMs, double decodeMs) {
        public double unetTotalMs() {
            return unetStepMs.stream().mapToDouble(Double::doubleValue).sum();
        }
    }

    /**
     * Runs every image of {@code plan}, handing each to {@code images} as it is decoded.
     *
     * @throws InvalidRequestException naming what this engine does not run
     */
    public Timings generate(GenerationPlan plan, ImageCallback images) {
        requireSupported(plan);
        GenerationParameters used = plan.parameters();
        int factor = plan.config().vaeScaleFactor();
        Shape latentShape = new Shape(1, plan.config().latentChannels(), used.height() / factor, used.width() / factor);
        List<Double> unetMs = new ArrayList<>();
        double[] decodeMs = new double[1];
        try (NDManager scope = NDManager.newBaseManager()) {
            long textStart = System.nanoTime();
            NDArray cond = encode(plan.prompt(), scope);
            NDArray uncond = plan.guidance() == Guidance.CLASSIFIER_FREE ? encode(plan.negativePrompt(), scope) : null;
            double textMs = millisSince(textStart);
            for (int k = 0; k < used.batchCount(); k++) {
                try (NDManager imageScope = scope.newSubManager()) {
                    imageScope.tempAttachAll(cond);
                    if (uncond != null) {
                        imageScope.tempAttachAll(uncond);
                    }
                    images.onImage(k, image(plan, k, cond, uncond, latentShape, imageScope, unetMs, decodeMs), used);
                }
            }
            return new Timings(textMs, unetMs, decodeMs[0]);
        }
    }

    private static double millisSince(long nanoStart) {
        return (System.nanoTime() - nanoStart) / 1e6;
    }

    /** Image k: ImageRun's text-to-image loop with the UNet and decoder in ONNX Runtime. */
    private RgbImage image(GenerationPlan plan, int k, NDArray cond, NDArray uncond, Shape latentShape,
            NDManager scope, List<Double> unetMs, double[] decodeMs) {
        GenerationParameters used = plan.parameters();
        SamplingPlan steps = plan.samplingPlan();
        Sampler sampler = plan.sampler();
        NoiseSource noise = NoiseSource.seeded(used.seedOf(k));
        try (SamplerState state = new SamplerState()) {
            NDArray latents = steps.initialSample(noise.gaussian(scope, latentShape));
            for (int i = plan.firstStep(); i < steps.size(); i++) {
                NDArray previous = latents;
                try (NDManager stepScope = scope.newSubManager()) {
                    // everything computed from these is freed with the step
                    stepScope.tempAttachAll(latents, cond);
                    if (uncond != null) {
                        stepScope.tempAttachAll(uncond);
                    }
                    long unetStart = System.nanoTime();
                    NDArray guided = predict(plan, steps.scaleModelInput(i, latents), steps.timestep(i), cond, uncond);
                    unetMs.add(millisSince(unetStart));
                    StepResult r = sampler.step(steps, i, guided, latents, noise, state);
                    latents = r.prevSample();
                    if (!Float.isFinite(latents.sum().getFloat())) {
                        throw new NonFiniteValuesException("step " + (i + 1) + " of image " + (k + 1) + " produced NaN"
                                + " or infinite latents in ONNX Runtime; no image was written");
                    }
                    latents.attach(scope);
                }
                previous.close();
            }
            NDArray z = plan.config().vae().decoderInput(latents);
            long decodeStart = System.nanoTime();
            NDArray decoded = run(vae, Map.of(VaeDecoderExporter.LATENT, input(z)), scope);
            RgbImage image = Images.toRgb(decoded).get(0);
            decodeMs[0] += millisSince(decodeStart);
            return image;
        }
    }

    /** GuidedDenoiser's prediction: one pass, or [uncond, cond] in one batch mixed u + s (c - u), or the scale input. */
    private NDArray predict(GenerationPlan plan, NDArray z, float t, NDArray cond, NDArray uncond) {
        NDManager scope = z.getManager();
        double scale = plan.parameters().cfgScale();
        Map<String, OrtGraph.Input> in = new LinkedHashMap<>();
        switch (plan.guidance()) {
            case NONE, EMBEDDED -> {
                in.put(UNetExporter.SAMPLE, input(z));
                in.put(UNetExporter.TIMESTEP, OrtGraph.floats(new float[] {t}, 1));
                in.put(UNetExporter.CONTEXT, input(cond));
                if (plan.guidance() == Guidance.EMBEDDED) {
                    in.put(UNetExporter.GUIDANCE, OrtGraph.floats(new float[] {(float) scale}, 1));
                }
                return run(unet, in, scope);
            }
            case CLASSIFIER_FREE -> {
                // (1, C, h, w) -> (2, C, h, w): [uncond, cond] share one UNet batch
                in.put(UNetExporter.SAMPLE, input(z.concat(z, 0)));
                in.put(UNetExporter.TIMESTEP, OrtGraph.floats(new float[] {t, t}, 2));
                in.put(UNetExporter.CONTEXT, input(uncond.concat(cond, 0)));
                NDArray both = run(unet, in, scope);
                NDArray u = both.get("0:1");
                NDArray c = both.get("1:2");
                return u.add(c.sub(u).mul(scope.create(new float[] {(float) scale}, new Shape(1, 1, 1, 1))));
            }
            default -> throw new IllegalStateException(plan.guidance().toString());
        }
    }

    /** (1, L, D) last hidden state of a one-chunk prompt. */
    private NDArray encode(ChunkedPrompt prompt, NDManager scope) {
        int[] ids = prompt.ids().get(0);
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return run(text, Map.of(TextEncoderExporter.INPUT_IDS, OrtGraph.longs(longs, 1, ids.length)), scope);
    }

    private static NDArray run(OrtGraph graph, Map<String, OrtGraph.Input> inputs, NDManager scope) {
        OrtGraph.Output out = graph.run(inputs);
        return scope.create(out.data(), new Shape(out.shape()));
    }

    private static OrtGraph.Input input(NDArray x) {
        return OrtGraph.floats(x.toFloatArray(), x.getShape().getShape());
    }

    /** What this engine leaves to the default one: the first found is refused with the request field it concerns. */
    public static void requireSupported(GenerationPlan plan) {
        if (plan.editsImage()) {
            throw unsupported("initImage", "image to image and inpainting");
        }
        if (plan.controlled()) {
            throw unsupported("control", "control adapters");
        }
        if (!plan.loras().isEmpty()) {
            throw unsupported("loras", "LoRA files");
        }
        if (plan.clipSkip() != 1) {
            throw unsupported("clipSkip", "clip skip other than 1");
        }
        if (plan.vaeTiling().splits(plan.parameters().height() / plan.config().vaeScaleFactor(),
                plan.parameters().width() / plan.config().vaeScaleFactor())) {
            throw unsupported("vaeTiling", "tiled VAE decoding");
        }
        for (ChunkedPrompt p : plan.negativePrompt() == null ? List.of(plan.prompt())
                : List.of(plan.prompt(), plan.negativePrompt())) {
            if (p.chunkCount() != 1) {
                throw unsupported("prompt", "prompts longer than one chunk of tokens");
            }
            if (p.weighted(0) || p.hasVectors(0)) {
                throw unsupported("prompt", "weighted prompts and textual-inversion embeddings");
            }
        }
    }

    private static InvalidRequestException unsupported(String field, String what) {
        return new InvalidRequestException(field, "is not supported by the onnx engine (" + what
                + "); use the default engine");
    }

    @Override
    public void close() {
        try (text; unet; vae) {
            // the sessions close first
        } finally {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the temporary ONNX folder " + root, e);
        }
    }
}
