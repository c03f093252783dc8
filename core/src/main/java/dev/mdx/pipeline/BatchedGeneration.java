package dev.mdx.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.prompt.ChunkedPrompt;
import dev.mdx.prompt.PromptEncoder;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.sampling.SamplerState;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.sampling.StepResult;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.tensor.NoiseSource;
import dev.mdx.unet.Guidance;
import dev.mdx.unet.GuidedDenoiser;
import dev.mdx.tensor.Precision;
import dev.mdx.vae.VaeTiling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Several plans' images through one model batch: one text-encoder call for all prompts, one UNet call per step for
 * all images, one VAE decode at the end. A server uses it to serve concurrent requests at the cost of about one
 * (dynamic batching): on a CPU a UNet call at batch 8 costs far less than 8 calls at batch 1.
 *
 * <p>Plans run together only when they share the model variant (base or student), the image size, the sampler's
 * timesteps and the kind of guidance ({@link #batchKey}). Everything else stays per image: prompt, negative prompt,
 * guidance scale, seed, the initial noise and any noise the sampler draws (image k of a plan from seed + k, as
 * alone), the sampler and its state. An image therefore comes out as it does from
 * {@link TextToImagePipeline#generate(GenerationPlan, StepCallback, ImageCallback)} up to the last bits of float
 * sums, which a batched matrix product adds in another order.
 *
 * <p>Each member has its own callbacks and its own outcome: a member whose step callback cancels, whose callback
 * throws or whose latents turn NaN leaves the batch with that exception as its outcome, and the others go on.
 */
public final class BatchedGeneration {
    /** One plan of a batched run, with its callbacks ({@code images} may be null to keep the images). */
    public record Member(GenerationPlan plan, StepCallback steps, ImageCallback images) {
        public Member {
            Objects.requireNonNull(plan, "plan");
            Objects.requireNonNull(steps, "steps");
        }
    }

    /**
     * What became of one member: its result, or the exception that ended it ({@link GenerationCancelledException},
     * {@link NonFiniteValuesException}, or what its callback threw).
     */
    public record Outcome(GenerationResult result, RuntimeException failure) {
        public boolean succeeded() {
            return failure == null;
        }
    }

    /** What plans must share to run in one batch; equal keys can. */
    private record Key(ModelVariant variant, int width, int height, Guidance guidance, SamplerKind kind,
            List<Float> timesteps, VaeTiling tiling, Object edit, int promptChunks, int clipSkip,
            Precision precision) {}

    private BatchedGeneration() {}

    /**
     * A value equal for plans that can run in one batch (same variant, size, timesteps, guidance kind, prompt length in
     * chunks and clip skip).
     */
    public static Object batchKey(GenerationPlan plan) {
        GenerationParameters p = plan.parameters();
        float[] t = plan.samplingPlan().timesteps();
        List<Float> timesteps = new ArrayList<>(t.length);
        for (float v : t) {
            timesteps.add(v);
        }
        // an image edit or a controlled run is its own key: it never shares a batch (and runs through generate)
        return new Key(plan.variant(), p.width(), p.height(), plan.guidance(), plan.samplingPlan().kind(),
                List.copyOf(timesteps), plan.vaeTiling(), plan.runsAlone() ? plan : null, plan.prompt().chunkCount(),
                plan.clipSkip(), plan.precision());
    }

    /** One image being generated: its member, place in the member's batch, noise, sampler state and latents. */
    private static final class Image {
        final Run member;
        final int index;
        final long seed;
        final NoiseSource noise;
        final SamplerState state = new SamplerState();
        final NDManager scope;
        NDArray latents;

        Image(Run member, int index, NDManager runScope, Shape latentShape) {
            this.member = member;
            this.index = index;
            this.seed = member.used.seedOf(index);
            this.noise = NoiseSource.seeded(seed);
            this.scope = runScope.newSubManager();
            this.latents = member.plan.samplingPlan().initialSample(noise.gaussian(scope, latentShape));
        }

        void close() {
            state.close();
            scope.close();
        }
    }

    /** One member while it runs. */
    private static final class Run {
        final Member member;
        final GenerationPlan plan;
        final GenerationParameters used;
        final List<Image> images = new ArrayList<>();
        /** Images kept for the result when the member has no image callback. */
        final List<RgbImage> delivered = new ArrayList<>();
        /** (1, L, D) prompt and, with classifier-free guidance, negative-prompt features. */
        NDArray cond;
        NDArray uncond;
        RuntimeException failure;

        Run(Member member) {
            this.member = member;
            this.plan = member.plan();
            this.used = plan.parameters();
        }
    }

    /** Runs the members; called by {@link TextToImagePipeline#generateTogether} inside its lifecycle lock. */
    static List<Outcome> run(TextToImagePipeline owner, NDManager scope, List<Member> members) {
        if (members.isEmpty()) {
            throw new IllegalArgumentException("no plans to generate");
        }
        // the members share it (batchKey)
        try (Precision.Scope precision = Precision.use(members.get(0).plan().precision())) {
            return runIn(owner, scope, members);
        }
    }

    private static List<Outcome> runIn(TextToImagePipeline owner, NDManager scope, List<Member> members) {
        long start = System.nanoTime();
        if (members.isEmpty()) {
            throw new IllegalArgumentException("no plans to generate");
        }
        Object key = batchKey(members.get(0).plan());
        for (Member m : members) {
            if (m.plan().runsAlone()) {
                throw new IllegalArgumentException("an image edit or a controlled run goes through generate, not in"
                        + " a batch");
            }
            if (m.plan().owner() != owner) {
                throw new IllegalArgumentException("a plan was made by another pipeline");
            }
            if (!batchKey(m.plan()).equals(key)) {
                throw new IllegalArgumentException("plans in one batch must share the model, size, sampler"
                        + " timesteps, guidance kind, prompt chunks and clip skip (BatchedGeneration.batchKey)");
            }
        }
        GenerationPlan first = members.get(0).plan();
        ModelVariant variant = first.variant();
        PipelineConfig config = variant.config();
        int factor = config.vaeScaleFactor();
        Shape latentShape = new Shape(1, config.latentChannels(), first.parameters().height() / factor,
                first.parameters().width() / factor);
        EngineThreads.useOnThisThread(first.threads());
        GuidedDenoiser denoiser = variant.denoiser();
        Guidance guidance = first.guidance();
        SamplingPlan steps = first.samplingPlan();

        List<Run> runs = members.stream().map(Run::new).toList();
        long textStart = System.nanoTime();
        encodeText(scope, variant, runs, guidance.needsUnconditional());
        double textMs = millisSince(textStart);
        List<Double> unetMs = new ArrayList<>();
        try {
            for (Run r : runs) {
                for (int k = 0; k < r.used.batchCount(); k++) {
                    r.images.add(new Image(r, k, scope, latentShape));
                }
            }
            for (int i = 0; i < steps.size(); i++) {
                List<Image> live = live(runs);
                if (live.isEmpty()) {
                    break;
                }
                step(denoiser, guidance, steps, i, live, unetMs);
            }
            long decodeStart = System.nanoTime();
            decode(variant, live(runs));
            double decodeMs = millisSince(decodeStart);
            Timings timings = new Timings(textMs, unetMs, decodeMs, millisSince(start));
            List<Outcome> outcomes = new ArrayList<>();
            for (Run r : runs) {
                outcomes.add(r.failure != null ? new Outcome(null, r.failure)
                        : new Outcome(new GenerationResult(r.delivered, r.used, timings, r.plan.warnings()), null));
            }
            return outcomes;
        } finally {
            for (Run r : runs) {
                r.images.forEach(Image::close);
            }
        }
    }

    private static List<Image> live(List<Run> runs) {
        List<Image> live = new ArrayList<>();
        for (Run r : runs) {
            if (r.failure == null) {
                live.addAll(r.images);
            }
        }
        return live;
    }

    /**
     * All prompts (and negative prompts) in one text-encoder batch; each member's features, (1, L, D), stay in
     * {@code scope} for the whole run.
     */
    private static void encodeText(NDManager scope, ModelVariant variant, List<Run> runs, boolean guided) {
        List<ChunkedPrompt> rows = new ArrayList<>();
        for (Run r : runs) {
            rows.add(r.plan.prompt());
            if (guided) {
                rows.add(r.plan.negativePrompt());
            }
        }
        try (NDManager textScope = scope.newSubManager()) {
            NDArray embeds = PromptEncoder.encode(variant.textEncoder(), rows, runs.get(0).plan.clipSkip(),
                    textScope);
            int per = guided ? 2 : 1;
            for (int m = 0; m < runs.size(); m++) {
                Run r = runs.get(m);
                r.cond = embeds.get((m * per) + ":" + (m * per + 1));
                r.cond.attach(scope);
                if (guided) {
                    r.uncond = embeds.get((m * per + 1) + ":" + (m * per + 2));
                    r.uncond.attach(scope);
                }
            }
        }
    }

    /** Step i of every live image: one guided UNet call for all, then each image's own sampler step. */
    private static void step(GuidedDenoiser denoiser, Guidance guidance, SamplingPlan steps, int i, List<Image> live,
            List<Double> unetMs) {
        NDManager runScope = live.get(0).scope.getParentManager();
        List<NDArray> previous = new ArrayList<>();
        try (NDManager stepScope = runScope.newSubManager()) {
            // arrays derived from the latents and the text features are made in (and freed with) the step scope
            Map<NDArray, Boolean> attached = new IdentityHashMap<>();
            for (Image im : live) {
                for (NDArray a : Arrays.asList(im.latents, im.member.cond, im.member.uncond)) {
                    if (a != null && attached.put(a, Boolean.TRUE) == null) {
                        stepScope.tempAttachAll(a);
                    }
                }
            }
            NDList scaled = new NDList();
            NDList cond = new NDList();
            NDList uncond = new NDList();
            double[] scales = new double[live.size()];
            for (int b = 0; b < live.size(); b++) {
                Image im = live.get(b);
                scaled.add(im.member.plan.samplingPlan().scaleModelInput(i, im.latents));
                cond.add(im.member.cond);
                if (im.member.uncond != null) {
                    uncond.add(im.member.uncond);
                }
                scales[b] = im.member.used.cfgScale();
            }
            // (1, C, h, w) x B -> (B, C, h, w); the text features likewise (B, L, D)
            NDArray z = NDArrays.concat(scaled, 0);
            NDArray t = stepScope.create(new float[] {steps.timestep(i)});
            long unetStart = System.nanoTime();
            GuidedDenoiser.Prediction p = denoiser.predict(guidance, z, t, NDArrays.concat(cond, 0),
                    uncond.isEmpty() ? null : NDArrays.concat(uncond, 0), scales, false);
            NDList guided = p.guided().split(live.size(), 0);
            unetMs.add(millisSince(unetStart));
            for (int b = 0; b < live.size(); b++) {
                Image im = live.get(b);
                NDArray before = im.latents;
                if (im.member.failure == null) {
                    samplerStep(im, steps, i, guided.get(b), unetMs.get(unetMs.size() - 1));
                }
                if (im.latents != before) {
                    previous.add(before);
                }
            }
        }
        // closed only now: the step scope gives its temporarily attached arrays back when it closes
        previous.forEach(NDArray::close);
    }

    /** The image's own sampler step and its member's step callback; a failure ends only that member. */
    private static void samplerStep(Image im, SamplingPlan steps, int i, NDArray guided, double unetMs) {
        Run r = im.member;
        GenerationPlan plan = r.plan;
        try {
            StepResult result = plan.sampler().step(plan.samplingPlan(), i, guided, im.latents, im.noise,
                    im.state);
            if (!Float.isFinite(result.prevSample().sum().getFloat())) {
                throw new NonFiniteValuesException("step " + (i + 1) + " of " + steps.size()
                        + (r.used.batchCount() > 1 ? " of image " + (im.index + 1) : "") + " produced NaN or"
                        + " infinite latents: the UNet's weights or the scheduler config hold unusable values, or"
                        + " the sampler diverged; no image was written");
            }
            StepEvent event = new StepEvent(im.index, r.used.batchCount(), i, steps.size(), steps.timestep(i),
                    im.seed, unetMs, result.denoised(), x -> ImageRun.decodeLatents(plan.variant(), x, plan.vaeTiling()));
            try {
                r.member.steps().onStep(event);
            } finally {
                event.close();
            }
            im.latents = result.prevSample();
            im.latents.attach(im.scope);
            if (event.cancelled()) {
                throw new GenerationCancelledException(List.of(), im.index, r.used.batchCount(), i, steps.size());
            }
        } catch (RuntimeException e) {
            r.failure = e;
        }
    }

    /** One VAE decode for all finished images, then each member's images in order to its callback. */
    private static void decode(ModelVariant variant, List<Image> finished) {
        if (finished.isEmpty()) {
            return;
        }
        NDManager runScope = finished.get(0).scope.getParentManager();
        try (NDManager decodeScope = runScope.newSubManager()) {
            NDList latents = new NDList();
            for (Image im : finished) {
                decodeScope.tempAttachAll(im.latents);
                latents.add(im.latents);
            }
            NDArray decoded = ImageRun.decodeLatents(variant, NDArrays.concat(latents, 0),
                    finished.get(0).member.plan.vaeTiling());
            // (B, 3, H, W) -> (B): one finiteness check per image
            float[] sums = decoded.sum(new int[] {1, 2, 3}).toFloatArray();
            List<RgbImage> images = Images.toRgb(decoded);
            for (int b = 0; b < finished.size(); b++) {
                Image im = finished.get(b);
                Run r = im.member;
                if (r.failure != null) {
                    continue;
                }
                try {
                    if (!Float.isFinite(sums[b])) {
                        throw new NonFiniteValuesException("the VAE decoded image " + (im.index + 1) + " to NaN or"
                                + " infinite values: its weights hold unusable values; no image was written");
                    }
                    if (r.member.images() != null) {
                        r.member.images().onImage(im.index, images.get(b), r.used);
                    } else {
                        r.delivered.add(images.get(b));
                    }
                } catch (RuntimeException e) {
                    r.failure = e;
                }
            }
        }
    }

    private static double millisSince(long nanoStart) {
        return (System.nanoTime() - nanoStart) / 1e6;
    }
}
