package dev.mdx.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.GuidanceEmbedding;
import dev.mdx.sampling.Sampler;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.sampling.SamplerState;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.sampling.StepResult;
import dev.mdx.tensor.NoiseSource;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.text.TokenizedPrompt;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.vae.AutoencoderKL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Text to image with a diffusers-layout Stable-Diffusion-family pipeline folder, as diffusers'
 * StableDiffusionPipeline computes it: tokenize, encode [negative, prompt], start from seeded noise times the
 * sampler's initial sigma, denoise with classifier-free guidance (uncond and cond in one UNet batch of 2), decode
 * latents / scaling_factor (+ shift_factor) with the VAE, convert to 8-bit RGB. A UNet that takes the guidance scale
 * as an input ({@link PipelineConfig#guidanceInput()}) runs once per step at batch 1 on the prompt, with the
 * embedding of (scale - 1) as its timestep condition, as diffusers' LatentConsistencyModelPipeline.
 *
 * <p>Load once, generate many times. {@code generate} is thread-safe: the models are read-only, samplers are
 * stateless, and every call has its own memory scope, sampler state and noise. Images of a batch are generated
 * one after the other (A1111's "batch count"), image k from seed + k for both its initial noise and any noise its
 * sampler draws, so image k comes out the same when generated alone with seed + k. {@link #close()} waits for
 * running calls and frees the weights.
 */
public final class TextToImagePipeline implements AutoCloseable {
    /** Owns the weights and, as sub-managers, the scope of every running call, so leaks show in one count. */
    private final NDManager root;
    private final ModelFolder folder;
    private final PipelineConfig config;
    private final ClipTokenizer tokenizer;
    private final ClipTextModel textEncoder;
    private final UNet2DConditionModel unet;
    private final AutoencoderKL vae;
    private final int textLength;
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    private TextToImagePipeline(ModelFolder folder) {
        this.folder = folder;
        this.config = PipelineConfig.read(folder);
        this.tokenizer = ClipTokenizer.load(folder.tokenizerDir());
        this.textLength = Math.min(tokenizer.maxLength(), config.textEncoder().maxPositionEmbeddings());
        NDManager manager = NDManager.newBaseManager();
        try {
            this.textEncoder = new ClipTextModel(config.textEncoder());
            textEncoder.loadWeights(folder.textEncoderWeights(), manager);
            this.unet = UNet2DConditionModel.fromConfig(config.unet());
            StateDicts.load(unet, folder.unetWeights(), manager);
            this.vae = new AutoencoderKL(config.vae());
            vae.loadWeights(folder.vaeWeights(), manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        this.root = manager;
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

        private Builder(Path folder) {
            this.folder = Objects.requireNonNull(folder, "folder");
        }

        /** Reads the tokenizer from another folder (one with vocab.json and merges.txt) instead of tokenizer/. */
        public Builder tokenizerDir(Path dir) {
            this.tokenizerDir = dir;
            return this;
        }

        /** Checks the folder (naming every missing file at once), then loads all weights. */
        public TextToImagePipeline build() {
            return new TextToImagePipeline(ModelFolder.open(folder, tokenizerDir));
        }
    }

    public PipelineConfig config() {
        return config;
    }

    public ModelFolder folder() {
        return folder;
    }

    public GenerationDefaults defaults() {
        return config.defaults();
    }

    /** A request builder holding this model's defaults. */
    public GenerationRequest.Builder newRequest() {
        return config.newRequest();
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    /** Token ids per prompt the text encoder reads, with start and end tokens. */
    public int textLength() {
        return textLength;
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

    /** Generates the request's images; see {@link #generate(GenerationRequest, StepCallback)}. */
    public GenerationResult generate(GenerationRequest request) {
        return generate(request, StepCallback.NONE);
    }

    /**
     * Generates the request's images, calling {@code callback} after every step.
     *
     * @throws InvalidRequestException when the request does not fit the model (size, step count)
     * @throws GenerationCancelledException when the callback cancelled
     * @throws IllegalStateException when the pipeline is closed
     */
    public GenerationResult generate(GenerationRequest request, StepCallback callback) {
        return generate(request, null, callback, PipelineTrace.NONE);
    }

    /**
     * Checks a request without running it: throws {@link InvalidRequestException} as generate would, and returns
     * the warnings generate would report (a prompt longer than the text encoder reads, an ignored negative prompt
     * or eta), so that a caller can show them before a long run.
     */
    public List<String> check(GenerationRequest request) {
        config.validate(request);
        List<String> warnings = new ArrayList<>();
        textWarnings(request, warnings);
        otherWarnings(request, warnings);
        return warnings;
    }

    /** From the prompt text, with optional initial noise as in the token-id entry point; traced for tests. */
    GenerationResult generate(GenerationRequest request, float[] initialNoise, StepCallback callback,
            PipelineTrace trace) {
        List<String> warnings = new ArrayList<>();
        TokenizedPrompt[] ids = textWarnings(request, warnings);
        return run(request, ids[0], ids[1], initialNoise, callback, trace, warnings);
    }

    /** Tokenizes prompt and (with CFG) negative prompt, adding their warnings: {prompt, negative or null}. */
    private TokenizedPrompt[] textWarnings(GenerationRequest request, List<String> warnings) {
        TokenizedPrompt prompt = tokenize(request.prompt(), "prompt", warnings);
        TokenizedPrompt negative = null;
        if (config.classifierFree(request)) {
            negative = tokenize(request.negativePrompt(), "negative prompt", warnings);
        } else if (!request.negativePrompt().isEmpty()) {
            warnings.add(config.guidanceInput()
                    ? "the negative prompt is ignored: this model takes the guidance scale as an input (one UNet"
                            + " pass per step on the prompt alone)"
                    : "the negative prompt is ignored: a CFG scale of " + GenerationParameters.number(
                            request.cfgScale()) + " (1 or less) turns classifier-free guidance off");
        }
        return new TokenizedPrompt[] {prompt, negative};
    }

    private static void otherWarnings(GenerationRequest request, List<String> warnings) {
        if (request.eta() != 0 && request.sampler() != SamplerKind.DDIM) {
            warnings.add("eta only affects ddim; " + request.sampler().cliName() + " ignores it");
        }
    }

    /**
     * The pipeline below the tokenizer: prompts given as token ids, and optionally the initial noise.
     *
     * @param prompt ids of the prompt, {@link #textLength()} long
     * @param negativePrompt ids of the negative prompt, used when the request runs classifier-free guidance
     *     ({@link PipelineConfig#classifierFree}); may be null otherwise
     * @param initialNoise standard-normal starting latents for all images, (batchCount, C, H/f, W/f) in C order, which
     *     the sampler scales by its initial sigma (diffusers' {@code latents=}); null draws them from the seeds
     */
    public GenerationResult generate(GenerationRequest request, TokenizedPrompt prompt, TokenizedPrompt negativePrompt,
            float[] initialNoise, StepCallback callback) {
        return generate(request, prompt, negativePrompt, initialNoise, callback, PipelineTrace.NONE);
    }

    GenerationResult generate(GenerationRequest request, TokenizedPrompt prompt, TokenizedPrompt negativePrompt,
            float[] initialNoise, StepCallback callback, PipelineTrace trace) {
        List<String> warnings = new ArrayList<>();
        for (TokenizedPrompt p : Arrays.asList(prompt, config.classifierFree(request) ? negativePrompt : null)) {
            if (p != null && p.truncated()) {
                warnings.add("a prompt of " + p.untruncatedLength() + " tokens was cut to " + textLength);
            }
        }
        return run(request, prompt, negativePrompt, initialNoise, callback, trace, warnings);
    }

    /** Ids at the text encoder's length; a prompt longer than that is cut, with a warning naming the lost words. */
    private TokenizedPrompt tokenize(String text, String what, List<String> warnings) {
        TokenizedPrompt p = tokenizer.encode(text, textLength);
        if (p.truncated()) {
            int[] all = tokenizer.encodeUntruncated(text);
            // all = BOS, tokens..., EOS; the kept tokens are all[1 .. textLength - 2]
            int[] dropped = Arrays.copyOfRange(all, textLength - 1, all.length - 1);
            warnings.add("the " + what + " is " + (all.length - 2) + " tokens long but the text encoder reads only "
                    + (textLength - 2) + "; this part was ignored: \"" + tokenizer.decode(dropped, true) + "\"");
        }
        return p;
    }

    private GenerationResult run(GenerationRequest request, TokenizedPrompt prompt, TokenizedPrompt negative,
            float[] initialNoise, StepCallback callback, PipelineTrace trace, List<String> warnings) {
        long start = System.nanoTime();
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(callback, "callback");
        boolean classifierFree = config.classifierFree(request);
        if (classifierFree) {
            Objects.requireNonNull(negative, "a guided request needs negative prompt ids");
        }
        config.validate(request);
        otherWarnings(request, warnings);
        int factor = config.vaeScaleFactor();
        Shape latentShape = new Shape(1, config.latentChannels(), request.height() / factor, request.width() / factor);
        if (initialNoise != null && initialNoise.length != request.batchCount() * latentShape.size()) {
            throw new IllegalArgumentException("initial noise has " + initialNoise.length + " values; "
                    + request.batchCount() + " images of " + latentShape + " need "
                    + request.batchCount() * latentShape.size());
        }
        long seed = request.seed() >= 0 ? request.seed() : GenerationRequest.randomSeed();
        GenerationParameters used = new GenerationParameters(request.prompt(), request.negativePrompt(),
                request.steps(), request.cfgScale(), seed, request.width(), request.height(), request.batchCount(),
                request.sampler(), config.samplerDisplayName(request.sampler()), request.eta(), config.modelName());
        Sampler sampler = config.sampler(request.sampler(), request.eta());
        SamplingPlan plan = sampler.plan(request.steps());

        lifecycle.readLock().lock();
        try (NDManager scope = newScope()) {
            long textStart = System.nanoTime();
            NDArray context = encodeText(scope, prompt, classifierFree ? negative : null);
            trace.promptEmbeds(context);
            double textMs = millisSince(textStart);
            NDArray guidance = config.guidanceInput() ? new GuidanceEmbedding(config.unet().timeCondProjDim())
                    .ofScales(new double[] {request.cfgScale()}, scope) : null;
            Run run = new Run(request, used, sampler, plan, context, guidance, latentShape, callback, trace);
            List<RgbImage> images = new ArrayList<>();
            for (int k = 0; k < request.batchCount(); k++) {
                float[] noise = initialNoise == null ? null : Arrays.copyOfRange(initialNoise,
                        (int) (k * latentShape.size()), (int) ((k + 1) * latentShape.size()));
                images.add(run.image(scope, k, noise, images));
            }
            return new GenerationResult(images, used, new Timings(textMs, run.unetMs, run.decodeMs,
                    millisSince(start)), warnings);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private NDManager newScope() {
        requireOpen();
        return root.newSubManager();
    }

    /** (2, L, D) [negative, prompt] for guidance, else (1, L, D) for the prompt, in {@code scope}. */
    private NDArray encodeText(NDManager scope, TokenizedPrompt prompt, TokenizedPrompt negative) {
        for (TokenizedPrompt p : Arrays.asList(prompt, negative)) {
            if (p != null && p.inputIds().length != textLength) {
                throw new IllegalArgumentException("prompt ids must be " + textLength + " long, got "
                        + p.inputIds().length);
            }
        }
        try (NDManager textScope = scope.newSubManager()) {
            List<TokenizedPrompt> rows = negative != null ? List.of(negative, prompt) : List.of(prompt);
            NDArray embeds = textEncoder.forward(ClipTokenizer.inputIds(rows, textScope)).lastHiddenState();
            embeds.attach(scope);
            return embeds;
        }
    }

    /** diffusers: vae.decode(latents / scaling_factor + shift_factor); the result is in the latents' manager. */
    private NDArray decodeLatents(NDArray latents) {
        NDArray z = latents.div((float) vae.scalingFactor());
        if (config.vae().shiftFactor().isPresent()) {
            z = z.add((float) config.vae().shiftFactor().getAsDouble());
        }
        return vae.decode(z);
    }

    /** The state of one generate call shared by its images. */
    private final class Run {
        final GenerationRequest request;
        final GenerationParameters used;
        final Sampler sampler;
        final SamplingPlan plan;
        final NDArray context;
        /** (1, time_cond_proj_dim): the embedding of (cfg scale - 1) for a UNet with a guidance input, else null. */
        final NDArray guidance;
        final Shape latentShape;
        final StepCallback callback;
        final PipelineTrace trace;
        final List<Double> unetMs = new ArrayList<>();
        double decodeMs;

        Run(GenerationRequest request, GenerationParameters used, Sampler sampler, SamplingPlan plan, NDArray context,
                NDArray guidance, Shape latentShape, StepCallback callback, PipelineTrace trace) {
            this.request = request;
            this.used = used;
            this.sampler = sampler;
            this.plan = plan;
            this.context = context;
            this.guidance = guidance;
            this.latentShape = latentShape;
            this.callback = callback;
            this.trace = trace;
        }

        /** Image k of the batch: its own noise source (seed + k), sampler state and memory scope. */
        RgbImage image(NDManager scope, int k, float[] givenNoise, List<RgbImage> done) {
            long seed = used.seedOf(k);
            NoiseSource noise = NoiseSource.seeded(seed);
            try (NDManager imageScope = scope.newSubManager(); SamplerState state = new SamplerState()) {
                NDArray standard = givenNoise != null ? imageScope.create(givenNoise, latentShape)
                        : noise.gaussian(imageScope, latentShape);
                NDArray latents = plan.initialSample(standard);
                for (int i = 0; i < plan.size(); i++) {
                    NDArray previous = latents;
                    boolean cancelled;
                    try (NDManager stepScope = imageScope.newSubManager()) {
                        // everything computed from the latents and the text features is freed with the step
                        stepScope.tempAttachAll(latents, context);
                        StepResult r = step(k, i, latents, noise, state);
                        trace.latents(k, i, r.prevSample());
                        StepEvent event = new StepEvent(k, request.batchCount(), i, plan.size(), plan.timestep(i),
                                seed, unetMs.get(unetMs.size() - 1), r.denoised(), TextToImagePipeline.this::decodeLatents);
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
                        throw new GenerationCancelledException(done, k, request.batchCount(), i, plan.size());
                    }
                }
                return decode(imageScope, k, latents);
            }
        }

        /**
         * One UNet evaluation (with classifier-free guidance, or with the guidance embedding as an input) and one
         * sampler step; results in the step scope.
         */
        private StepResult step(int k, int i, NDArray latents, NoiseSource noise, SamplerState state) {
            NDManager stepScope = latents.getManager();
            NDArray scaled = plan.scaleModelInput(i, latents);
            boolean guided = config.classifierFree(request);
            // (B, C, h, w) -> (2B, C, h, w): [uncond, cond] share one UNet batch
            NDArray input = guided ? NDArrays.concat(new NDList(scaled, scaled), 0) : scaled;
            trace.unetInput(k, i, input);
            NDArray t = stepScope.create(new float[] {plan.timestep(i)});
            long unetStart = System.nanoTime();
            NDArray out = unet.forward(input, t, context, guidance);
            unetMs.add(millisSince(unetStart));
            NDArray noisePred;
            if (guided) {
                NDList halves = out.split(2, 0);
                NDArray uncond = halves.get(0);
                NDArray text = halves.get(1);
                noisePred = uncond.add(text.sub(uncond).mul((float) request.cfgScale()));
                trace.noisePrediction(k, i, uncond, text, noisePred);
            } else {
                noisePred = out;
                trace.noisePrediction(k, i, null, out, out);
            }
            return sampler.step(plan, i, noisePred, latents, noise, state);
        }

        private RgbImage decode(NDManager imageScope, int k, NDArray latents) {
            long decodeStart = System.nanoTime();
            try (NDManager decodeScope = imageScope.newSubManager()) {
                decodeScope.tempAttachAll(latents);
                NDArray decoded = decodeLatents(latents);
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
