package dev.mdx.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.ModelFolder;
import dev.mdx.sampling.Sampler;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.sampling.SamplerState;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.sampling.StepResult;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.tensor.NoiseSource;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.text.TokenizedPrompt;
import dev.mdx.unet.Guidance;
import dev.mdx.unet.GuidedDenoiser;
import dev.mdx.vae.AutoencoderKL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Text to image with a diffusers-layout Stable-Diffusion-family pipeline folder, as diffusers'
 * StableDiffusionPipeline computes it: tokenize, encode [negative, prompt], start from seeded noise times the
 * sampler's initial sigma, denoise with classifier-free guidance (uncond and cond in one UNet batch of 2), decode
 * latents / scaling_factor (+ shift_factor) with the VAE, convert to 8-bit RGB. A UNet that takes the guidance scale
 * as an input runs once per step at batch 1 on the prompt, with the embedding of (scale - 1) as its timestep
 * condition, as diffusers' LatentConsistencyModelPipeline ({@link GuidedDenoiser}).
 *
 * <p>The one door for generation: {@link #plan} resolves a request once (the few-step student its step count asks
 * for, the model's defaults for what it leaves unset, the seed, the sampler's timesteps, the engine threads) and
 * {@link #generate(GenerationPlan, StepCallback, ImageCallback)} runs it. Students (MODEL/students/NAME) share the
 * base model's text encoder and VAE; their UNets load on first use.
 *
 * <p>Load once, generate many times. {@code generate} is thread-safe: the models are read-only, samplers are
 * stateless, and every call has its own memory scope, sampler state and noise, and sets the engine's thread count
 * for its own thread, so the same request gives the same bytes on any thread. Images of a batch are generated one
 * after the other (A1111's "batch count"), image k from seed + k for both its initial noise and any noise its
 * sampler draws, so image k comes out the same when generated alone with seed + k. {@link #close()} waits for
 * running calls and frees the weights.
 */
public final class TextToImagePipeline implements AutoCloseable {
    /** Owns the weights and, as sub-managers, the scope of every running call, so leaks show in one count. */
    private final NDManager root;
    private final ModelVariant base;
    private final ModelVariant.SharedWeights weights;
    /** Students by folder, made on first use. */
    private final Map<Path, ModelVariant> students = new HashMap<>();
    private final Integer threads;
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    private TextToImagePipeline(ModelFolder folder, Integer threads, boolean loadWeightsNow) {
        this.threads = threads;
        EngineThreads.loadEngine();
        this.root = NDManager.newBaseManager();
        this.weights = new ModelVariant.SharedWeights(root);
        try {
            this.base = variant(folder, null);
            if (loadWeightsNow) {
                base.loadAll();
            }
        } catch (RuntimeException e) {
            root.close();
            throw e;
        }
    }

    /** Loads a diffusers pipeline folder (unet/, vae/, text_encoder/, tokenizer/, scheduler/). */
    public static TextToImagePipeline load(Path folder) {
        return builder(folder).build();
    }

    public static Builder builder(Path folder) {
        return new Builder(folder);
    }

    /** Options of loading. */
    public static final class Builder {
        private final Path folder;
        private Path tokenizerDir;
        private Integer threads;
        private boolean loadWeightsNow = true;

        private Builder(Path folder) {
            this.folder = Objects.requireNonNull(folder, "folder");
        }

        /** Reads the tokenizer from another folder (one with vocab.json and merges.txt) instead of tokenizer/. */
        public Builder tokenizerDir(Path dir) {
            this.tokenizerDir = dir;
            return this;
        }

        /**
         * Engine threads per operation for every request; unset, each request picks its own ({@link ThreadPolicy}:
         * one for small UNets, one per core otherwise).
         */
        public Builder threads(int value) {
            this.threads = EngineThreads.check(value);
            return this;
        }

        /**
         * Whether {@link #build()} loads the base model's weights now (the default, so a broken weights file fails
         * at once) or at its first request (so that {@link #plan} checks a request before any weights load, and a
         * caller that runs only a student never loads the base UNet).
         */
        public Builder loadWeightsNow(boolean value) {
            this.loadWeightsNow = value;
            return this;
        }

        /** Checks the folder (naming every missing file at once) and its configs, then loads the weights. */
        public TextToImagePipeline build() {
            return new TextToImagePipeline(ModelFolder.open(folder, tokenizerDir), threads, loadWeightsNow);
        }
    }

    /** The base model's configuration. */
    public PipelineConfig config() {
        return base.config();
    }

    public ModelFolder folder() {
        return base.folder();
    }

    /** The base model's defaults (a student's apply when a request runs it). */
    public GenerationDefaults defaults() {
        return base.config().defaults();
    }

    /** A request builder; what it leaves unset comes from the model that runs it. */
    public GenerationRequest.Builder newRequest() {
        return GenerationRequest.builder();
    }

    public ClipTokenizer tokenizer() {
        return base.tokenizer();
    }

    /** Token ids per prompt the base model's text encoder reads, with start and end tokens. */
    public int textLength() {
        return base.textLength();
    }

    /** The students the model ships. */
    public List<Students.Student> students() {
        return Students.list(base.folder().index());
    }

    /** Native arrays owned by the pipeline now: its weights plus those of running calls. Flat between calls. */
    public int managedArrayCount() {
        lifecycle.readLock().lock();
        try {
            requireOpen();
            return root.getManagedArrays().size();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * Checks and resolves a request against the model without running it.
     *
     * @throws InvalidRequestException naming the field when the request does not fit the model
     */
    public GenerationPlan plan(GenerationRequest request) {
        ModelVariant variant = variantFor(request);
        List<String> warnings = new ArrayList<>();
        Resolved r = resolve(request, variant, warnings);
        TokenizedPrompt prompt = tokenize(variant, request.prompt(), "prompt", warnings);
        TokenizedPrompt negative = r.guidance.needsUnconditional()
                ? tokenize(variant, request.negativePrompt(), "negative prompt", warnings) : null;
        return r.plan(this, variant, prompt, negative, warnings);
    }

    /**
     * Like {@link #plan(GenerationRequest)} with the prompts given as token ids, {@link #textLength()} long (the
     * negative prompt's used only with classifier-free guidance, may be null otherwise).
     */
    public GenerationPlan plan(GenerationRequest request, TokenizedPrompt prompt, TokenizedPrompt negativePrompt) {
        Objects.requireNonNull(prompt, "prompt");
        ModelVariant variant = variantFor(request);
        List<String> warnings = new ArrayList<>();
        Resolved r = resolve(request, variant, warnings);
        if (r.guidance.needsUnconditional()) {
            Objects.requireNonNull(negativePrompt, "a guided request needs negative prompt ids");
        }
        TokenizedPrompt negative = r.guidance.needsUnconditional() ? negativePrompt : null;
        for (TokenizedPrompt p : Arrays.asList(prompt, negative)) {
            if (p != null && p.inputIds().length != variant.textLength()) {
                throw new IllegalArgumentException("prompt ids must be " + variant.textLength() + " long, got "
                        + p.inputIds().length);
            }
            if (p != null && p.truncated()) {
                warnings.add("a prompt of " + p.untruncatedLength() + " tokens was cut to " + variant.textLength());
            }
        }
        return r.plan(this, variant, prompt, negative, warnings);
    }

    /** The warnings generate would report, or {@link InvalidRequestException}, without running. */
    public List<String> check(GenerationRequest request) {
        return plan(request).warnings();
    }

    /** Loads the weights a plan runs with now, so its first generate call measures only generating. */
    public void loadWeights(GenerationPlan plan) {
        lifecycle.readLock().lock();
        try {
            requireOpen();
            plan.variant().loadAll();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Generates the request's images; see {@link #generate(GenerationPlan, StepCallback, ImageCallback)}. */
    public GenerationResult generate(GenerationRequest request) {
        return generate(plan(request), StepCallback.NONE, null);
    }

    /** Generates the request's images, calling {@code callback} after every step. */
    public GenerationResult generate(GenerationRequest request, StepCallback callback) {
        return generate(plan(request), callback, null);
    }

    /**
     * Runs a plan made by this pipeline.
     *
     * @param callback called after every step (progress, previews, cancel)
     * @param images given each image as it is decoded (which the result then does not keep), or null to collect
     *     them all in the result
     * @throws GenerationCancelledException when the callback cancelled
     * @throws NonFiniteValuesException when the model produced NaN or infinite values (no image is delivered)
     * @throws IllegalStateException when the pipeline is closed
     */
    public GenerationResult generate(GenerationPlan plan, StepCallback callback, ImageCallback images) {
        return run(plan, null, callback, images, PipelineTrace.NONE);
    }

    /**
     * The pipeline below the tokenizer: prompts given as token ids, and optionally the initial noise.
     *
     * @param initialNoise standard-normal starting latents for all images, (batchCount, C, H/f, W/f) in C order, which
     *     the sampler scales by its initial sigma (diffusers' {@code latents=}); null draws them from the seeds
     */
    public GenerationResult generate(GenerationRequest request, TokenizedPrompt prompt, TokenizedPrompt negativePrompt,
            float[] initialNoise, StepCallback callback) {
        return run(plan(request, prompt, negativePrompt), initialNoise, callback, null, PipelineTrace.NONE);
    }

    /** From the prompt text with optional initial noise; traced for tests. */
    GenerationResult generate(GenerationRequest request, float[] initialNoise, StepCallback callback,
            PipelineTrace trace) {
        return run(plan(request), initialNoise, callback, null, trace);
    }

    GenerationResult generate(GenerationRequest request, TokenizedPrompt prompt, TokenizedPrompt negativePrompt,
            float[] initialNoise, StepCallback callback, PipelineTrace trace) {
        return run(plan(request, prompt, negativePrompt), initialNoise, callback, null, trace);
    }

    /** The base model, or the student the request's step count asks for. */
    private ModelVariant variantFor(GenerationRequest request) {
        if (request.steps() == null || !request.useStudent()) {
            return base;
        }
        Optional<Students.Student> student = Students.forSteps(base.folder().index(), request.steps());
        return student.isPresent() ? studentVariant(student.get()) : base;
    }

    private ModelVariant studentVariant(Students.Student student) {
        lifecycle.readLock().lock();
        try {
            requireOpen();
            synchronized (students) {
                ModelVariant v = students.get(student.dir());
                if (v == null) {
                    v = variant(ModelFolder.open(student.dir()), student);
                    students.put(student.dir(), v);
                }
                return v;
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** A variant of {@code folder}: its configs and tokenizer now, its weights when first run. */
    private ModelVariant variant(ModelFolder folder, Students.Student student) {
        return new ModelVariant(folder, PipelineConfig.read(folder), student, ClipTokenizer.load(folder.tokenizerDir()),
                weights);
    }

    /** The request's values filled from the variant's defaults and checked against it. */
    private static Resolved resolve(GenerationRequest request, ModelVariant variant, List<String> warnings) {
        PipelineConfig config = variant.config();
        GenerationDefaults d = config.defaults();
        int width = request.width() != null ? request.width() : d.width();
        int height = request.height() != null ? request.height() : d.height();
        int steps = request.steps() != null ? request.steps() : d.steps();
        double cfg = request.cfgScale() != null ? request.cfgScale() : d.cfgScale();
        SamplerKind kind = request.sampler() != null ? request.sampler() : d.sampler();
        config.validateSize(width, height);
        Sampler sampler = config.sampler(kind, request.eta());
        SamplingPlan samplingPlan = config.plan(sampler, steps);
        Guidance guidance = Guidance.of(config.unet(), cfg);
        if (guidance != Guidance.CLASSIFIER_FREE && !request.negativePrompt().isEmpty()) {
            warnings.add(guidance == Guidance.EMBEDDED
                    ? "the negative prompt is ignored: this model takes the guidance scale as an input (one UNet"
                            + " pass per step on the prompt alone)"
                    : "the negative prompt is ignored: a CFG scale of " + GenerationParameters.number(cfg)
                            + " (1 or less) turns classifier-free guidance off");
        }
        if (request.eta() != 0 && kind != SamplerKind.DDIM) {
            warnings.add("eta only affects ddim; " + kind.cliName() + " ignores it");
        }
        long seed = request.seed() >= 0 ? request.seed() : GenerationRequest.randomSeed();
        GenerationParameters used = new GenerationParameters(request.prompt(), request.negativePrompt(), steps, cfg,
                seed, width, height, request.batchCount(), kind, config.samplerDisplayName(kind), request.eta(),
                config.modelName());
        return new Resolved(used, sampler, samplingPlan, guidance);
    }

    /** What {@link #resolve} decided, before the prompts are tokenized. */
    private record Resolved(GenerationParameters used, Sampler sampler, SamplingPlan samplingPlan,
            Guidance guidance) {
        GenerationPlan plan(TextToImagePipeline owner, ModelVariant variant, TokenizedPrompt prompt,
                TokenizedPrompt negative, List<String> warnings) {
            PipelineConfig config = variant.config();
            int factor = config.vaeScaleFactor();
            int threads = owner.threads != null ? owner.threads
                    : ThreadPolicy.threadsFor(config, guidance, used.height() / factor, used.width() / factor);
            List<String> notes = new ArrayList<>(config.notes());
            if (variant.student() != null) {
                notes.add(0, used.steps() + " steps: using " + variant.student().describe(used.steps()) + " ("
                        + Students.relativeName(owner.base.folder().root(), variant.student()) + ")");
            }
            return new GenerationPlan(owner, variant, used, sampler, samplingPlan, guidance, threads, prompt,
                    negative, notes, warnings);
        }
    }

    /** Ids at the text encoder's length; a prompt longer than that is cut, with a warning naming the lost words. */
    private static TokenizedPrompt tokenize(ModelVariant variant, String text, String what, List<String> warnings) {
        ClipTokenizer tokenizer = variant.tokenizer();
        int length = variant.textLength();
        TokenizedPrompt p = tokenizer.encode(text, length);
        if (p.truncated()) {
            int[] all = tokenizer.encodeUntruncated(text);
            // all = BOS, tokens..., EOS; the kept tokens are all[1 .. length - 2]
            int[] dropped = Arrays.copyOfRange(all, length - 1, all.length - 1);
            warnings.add("the " + what + " is " + (all.length - 2) + " tokens long but the text encoder reads only "
                    + (length - 2) + "; this part was ignored: \"" + tokenizer.decode(dropped, true) + "\"");
        }
        return p;
    }

    private GenerationResult run(GenerationPlan plan, float[] initialNoise, StepCallback callback,
            ImageCallback imageCallback, PipelineTrace trace) {
        long start = System.nanoTime();
        Objects.requireNonNull(callback, "callback");
        if (plan.owner() != this) {
            throw new IllegalArgumentException("the plan was made by another pipeline");
        }
        GenerationParameters used = plan.parameters();
        ModelVariant variant = plan.variant();
        PipelineConfig config = variant.config();
        int factor = config.vaeScaleFactor();
        Shape latentShape = new Shape(1, config.latentChannels(), used.height() / factor, used.width() / factor);
        if (initialNoise != null && initialNoise.length != used.batchCount() * latentShape.size()) {
            throw new IllegalArgumentException("initial noise has " + initialNoise.length + " values; "
                    + used.batchCount() + " images of " + latentShape + " need "
                    + used.batchCount() * latentShape.size());
        }

        lifecycle.readLock().lock();
        try (NDManager scope = newScope()) {
            EngineThreads.useOnThisThread(plan.threads());
            GuidedDenoiser denoiser = variant.denoiser();
            long textStart = System.nanoTime();
            NDList text = encodeText(scope, variant, plan.prompt(), plan.negativePrompt());
            double textMs = millisSince(textStart);
            Run run = new Run(plan, denoiser, text, latentShape, callback, trace);
            List<RgbImage> images = new ArrayList<>();
            for (int k = 0; k < used.batchCount(); k++) {
                float[] noise = initialNoise == null ? null : Arrays.copyOfRange(initialNoise,
                        (int) (k * latentShape.size()), (int) ((k + 1) * latentShape.size()));
                RgbImage image = run.image(scope, k, noise, images);
                if (imageCallback != null) {
                    imageCallback.onImage(k, image, used);
                } else {
                    images.add(image);
                }
            }
            return new GenerationResult(images, used, new Timings(textMs, run.unetMs, run.decodeMs,
                    millisSince(start)), plan.warnings());
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private NDManager newScope() {
        requireOpen();
        return root.newSubManager();
    }

    /**
     * The text features in {@code scope}: {cond (1, L, D)}, or with classifier-free guidance {cond, uncond}, both
     * from one text-encoder batch of [negative, prompt].
     */
    private static NDList encodeText(NDManager scope, ModelVariant variant, TokenizedPrompt prompt,
            TokenizedPrompt negative) {
        try (NDManager textScope = scope.newSubManager()) {
            List<TokenizedPrompt> rows = negative != null ? List.of(negative, prompt) : List.of(prompt);
            NDArray embeds = variant.textEncoder().forward(ClipTokenizer.inputIds(rows, textScope))
                    .lastHiddenState();
            NDList out = negative != null ? new NDList(embeds.get("1:2"), embeds.get("0:1"), embeds)
                    : new NDList(embeds);
            out.attach(scope);
            return out;
        }
    }

    /** diffusers: vae.decode(latents / scaling_factor + shift_factor); the result is in the latents' manager. */
    private static NDArray decodeLatents(ModelVariant variant, NDArray latents) {
        AutoencoderKL vae = variant.vae();
        NDArray z = latents.div((float) vae.scalingFactor());
        if (variant.config().vae().shiftFactor().isPresent()) {
            z = z.add((float) variant.config().vae().shiftFactor().getAsDouble());
        }
        return vae.decode(z);
    }

    /** The state of one generate call shared by its images. */
    private final class Run {
        final GenerationPlan plan;
        final GenerationParameters used;
        final ModelVariant variant;
        final GuidedDenoiser denoiser;
        final SamplingPlan steps;
        /** (1, L, D) prompt features. */
        final NDArray cond;
        /** (1, L, D) negative-prompt features with classifier-free guidance, else null. */
        final NDArray uncond;
        final double[] scale;
        final Shape latentShape;
        final StepCallback callback;
        final PipelineTrace trace;
        final List<Double> unetMs = new ArrayList<>();
        double decodeMs;

        Run(GenerationPlan plan, GuidedDenoiser denoiser, NDList text, Shape latentShape, StepCallback callback,
                PipelineTrace trace) {
            this.plan = plan;
            this.used = plan.parameters();
            this.variant = plan.variant();
            this.denoiser = denoiser;
            this.steps = plan.samplingPlan();
            this.cond = text.get(0);
            this.uncond = text.size() > 1 ? text.get(1) : null;
            this.scale = new double[] {used.cfgScale()};
            this.latentShape = latentShape;
            this.callback = callback;
            this.trace = trace;
            trace.promptEmbeds(text.get(text.size() - 1));
        }

        /** Image k of the batch: its own noise source (seed + k), sampler state and memory scope. */
        RgbImage image(NDManager scope, int k, float[] givenNoise, List<RgbImage> done) {
            long seed = used.seedOf(k);
            NoiseSource noise = NoiseSource.seeded(seed);
            try (NDManager imageScope = scope.newSubManager(); SamplerState state = new SamplerState()) {
                NDArray standard = givenNoise != null ? imageScope.create(givenNoise, latentShape)
                        : noise.gaussian(imageScope, latentShape);
                NDArray latents = steps.initialSample(standard);
                for (int i = 0; i < steps.size(); i++) {
                    NDArray previous = latents;
                    boolean cancelled;
                    try (NDManager stepScope = imageScope.newSubManager()) {
                        // everything computed from the latents and the text features is freed with the step
                        stepScope.tempAttachAll(latents, cond);
                        if (uncond != null) {
                            stepScope.tempAttachAll(uncond);
                        }
                        StepResult r = step(k, i, latents, noise, state);
                        requireFinite(r.prevSample(), k, i);
                        trace.latents(k, i, r.prevSample());
                        StepEvent event = new StepEvent(k, used.batchCount(), i, steps.size(), steps.timestep(i),
                                seed, unetMs.get(unetMs.size() - 1), r.denoised(),
                                x -> decodeLatents(variant, x));
                        try {
                            callback.onStep(event);
                        } finally {
                            event.close();
                        }
                        cancelled = event.cancelled();
                        latents = r.prevSample();
                        latents.attach(imageScope);
                    }
                    previous.close();
                    if (cancelled) {
                        throw new GenerationCancelledException(done, k, used.batchCount(), i, steps.size());
                    }
                }
                return decode(imageScope, k, latents);
            }
        }

        /** One guided UNet evaluation and one sampler step; results in the step scope. */
        private StepResult step(int k, int i, NDArray latents, NoiseSource noise, SamplerState state) {
            NDManager stepScope = latents.getManager();
            NDArray scaled = steps.scaleModelInput(i, latents);
            NDArray t = stepScope.create(new float[] {steps.timestep(i)});
            long unetStart = System.nanoTime();
            GuidedDenoiser.Prediction p = denoiser.predict(plan.guidance(), scaled, t, cond, uncond, scale, false);
            unetMs.add(millisSince(unetStart));
            trace.unetInput(k, i, p.input());
            trace.noisePrediction(k, i, p.unconditional(), p.conditional() != null ? p.conditional() : p.guided(),
                    p.guided());
            return plan.sampler().step(steps, i, p.guided(), latents, noise, state);
        }

        /**
         * Stops a run whose latents hold NaN or infinity, which would decode to a black image. One sum over the
         * latents: it is finite exactly when every value is (short of a float overflow, itself a divergence).
         */
        private void requireFinite(NDArray latents, int k, int i) {
            float sum = latents.sum().getFloat();
            if (!Float.isFinite(sum)) {
                throw new NonFiniteValuesException("step " + (i + 1) + " of " + steps.size()
                        + (used.batchCount() > 1 ? " of image " + (k + 1) : "") + " (timestep "
                        + GenerationParameters.number(steps.timestep(i)) + ") produced NaN or infinite latents: the"
                        + " UNet's weights or the scheduler config hold unusable values, or the sampler diverged; no"
                        + " image was written");
            }
        }

        private RgbImage decode(NDManager imageScope, int k, NDArray latents) {
            long decodeStart = System.nanoTime();
            try (NDManager decodeScope = imageScope.newSubManager()) {
                decodeScope.tempAttachAll(latents);
                NDArray decoded = decodeLatents(variant, latents);
                if (!Float.isFinite(decoded.sum().getFloat())) {
                    throw new NonFiniteValuesException("the VAE decoded image " + (k + 1) + " to NaN or infinite"
                            + " values: its weights hold unusable values; no image was written");
                }
                trace.decoded(k, decoded);
                RgbImage image = Images.toRgb(decoded).get(0);
                decodeMs += millisSince(decodeStart);
                return image;
            }
        }
    }

    private static double millisSince(long nanoStart) {
        return (System.nanoTime() - nanoStart) / 1e6;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the pipeline is closed");
        }
    }

    /** Waits for running calls, then frees the weights; later calls fail. Idempotent. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                root.close();
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }
}
