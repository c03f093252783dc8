package dev.mdx.pipeline;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.ModelFolder;
import dev.mdx.prompt.EmbeddingLibrary;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.tensor.Precision;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.text.TokenizedPrompt;
import dev.mdx.unet.GuidedDenoiser;
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
 * <p>A request's LoRAs are read and matched to the model when it is planned and fused into the weights for its run:
 * calls with the same LoRAs share the fused weights, a call with others waits for them to finish and then finds the
 * original weights restored bit for bit before its own are fused ({@code LoraWeights}).
 *
 * <p>Load once, generate many times. {@code generate} is thread-safe: the models are read-only while calls run,
 * samplers are stateless, and every call has its own memory scope, sampler state and noise, and sets the engine's
 * thread count for its own thread, so the same request gives the same bytes on any thread. Images of a batch are
 * generated one after the other (A1111's "batch count"), image k from seed + k for both its initial noise and any
 * noise its sampler draws, so image k comes out the same when generated alone with seed + k. {@link #close()} waits
 * for running calls and frees the weights.
 */
public final class TextToImagePipeline implements AutoCloseable {
    /** Owns the weights and, as sub-managers, the scope of every running call, so leaks show in one count. */
    private final NDManager root;
    private final ModelVariant base;
    private final ModelVariant.SharedWeights weights;
    /** Students by folder, made on first use. */
    private final Map<Path, ModelVariant> students = new HashMap<>();
    private final RequestPlanner planner;
    private final LoraWeights loraWeights;
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    private TextToImagePipeline(ModelFolder folder, Integer threads, boolean loadWeightsNow, Path loraDir,
            Path embeddingDir) {
        EngineThreads.loadEngine();
        this.root = NDManager.newBaseManager();
        this.planner = new RequestPlanner(this, folder.root(), threads,
                new LoraPlanner(loraDir != null ? loraDir : folder.root().resolve(DEFAULT_LORA_DIR)),
                new EmbeddingLibrary(embeddingDir != null ? embeddingDir
                        : folder.root().resolve(DEFAULT_EMBEDDING_DIR)),
                new ControlPlanner(folder.root(), root));
        this.weights = new ModelVariant.SharedWeights(root);
        this.loraWeights = new LoraWeights(root);
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

    /** The folder of a model in which {@code <lora:NAME>} is looked up unless the builder names another. */
    public static final String DEFAULT_LORA_DIR = "loras";

    /** The folder of a model in which a prompt's embedding names are looked up unless the builder names another. */
    public static final String DEFAULT_EMBEDDING_DIR = "embeddings";

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
        private Path loraDir;
        private Path embeddingDir;

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

        /**
         * The folder in which a prompt's {@code <lora:NAME:SCALE>} finds {@code NAME.safetensors} (default: the model's
         * {@value TextToImagePipeline#DEFAULT_LORA_DIR} folder).
         */
        public Builder loraDir(Path dir) {
            this.loraDir = dir;
            return this;
        }

        /**
         * The folder whose textual-inversion embeddings ({@code NAME.safetensors}, also in sub-folders) a prompt uses by
         * writing NAME (default: the model's {@value TextToImagePipeline#DEFAULT_EMBEDDING_DIR} folder, if it exists).
         */
        public Builder embeddingDir(Path dir) {
            this.embeddingDir = dir;
            return this;
        }

        /** Checks the folder (naming every missing file at once) and its configs, then loads the weights. */
        public TextToImagePipeline build() {
            return new TextToImagePipeline(ModelFolder.open(folder, tokenizerDir), threads, loadWeightsNow, loraDir,
                    embeddingDir);
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

    /**
     * The textual-inversion embeddings in the pipeline's embedding folder that fit the base model's text encoder, and
     * why the others do not.
     */
    public EmbeddingLibrary.Listing embeddings() {
        return planner.embeddings().list(base.config().textEncoder().hiddenSize());
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
        return planner.plan(request, variantFor(request));
    }

    /**
     * Like {@link #plan(GenerationRequest)} with the prompts given as token ids, {@link #textLength()} long (the
     * negative prompt's used only with classifier-free guidance, may be null otherwise).
     */
    public GenerationPlan plan(GenerationRequest request, TokenizedPrompt prompt, TokenizedPrompt negativePrompt) {
        return planner.plan(request, variantFor(request), prompt, negativePrompt);
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
        return run(plan, RecordedNoise.NONE, callback, images, PipelineTrace.NONE);
    }

    /**
     * Runs several plans' images through one model batch per step (dynamic batching); the plans must share
     * {@link BatchedGeneration#batchKey}. Each member gets its own outcome; see {@link BatchedGeneration}.
     */
    public List<BatchedGeneration.Outcome> generateTogether(List<BatchedGeneration.Member> members) {
        lifecycle.readLock().lock();
        try (NDManager scope = newScope()) {
            return BatchedGeneration.run(this, scope, members);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * The pipeline below the tokenizer: prompts given as token ids, and optionally the initial noise.
     *
     * @param initialNoise standard-normal starting latents for all images, (batchCount, C, H/f, W/f) in C order, which
     *     the sampler scales by its initial sigma (diffusers' {@code latents=}); null draws them from the seeds
     */
    public GenerationResult generate(GenerationRequest request, TokenizedPrompt prompt, TokenizedPrompt negativePrompt,
            float[] initialNoise, StepCallback callback) {
        return run(plan(request, prompt, negativePrompt), RecordedNoise.initial(initialNoise), callback, null,
                PipelineTrace.NONE);
    }

    /** From the prompt text with optional initial noise; traced for tests. */
    GenerationResult generate(GenerationRequest request, float[] initialNoise, StepCallback callback,
            PipelineTrace trace) {
        return run(plan(request), RecordedNoise.initial(initialNoise), callback, null, trace);
    }

    GenerationResult generate(GenerationRequest request, TokenizedPrompt prompt, TokenizedPrompt negativePrompt,
            float[] initialNoise, StepCallback callback, PipelineTrace trace) {
        return run(plan(request, prompt, negativePrompt), RecordedNoise.initial(initialNoise), callback, null, trace);
    }

    /** A plan run with recorded draws and a trace, for parity with a reference's recorded run. */
    GenerationResult generate(GenerationPlan plan, RecordedNoise recorded, PipelineTrace trace) {
        return run(plan, recorded, StepCallback.NONE, null, trace);
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
                    v = variant(ModelFolder.open(student.index()), student);
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

    private GenerationResult run(GenerationPlan plan, RecordedNoise recorded, StepCallback callback,
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
        recorded.check(used.batchCount(), latentShape);

        lifecycle.readLock().lock();
        try (NDManager scope = newScope(); LoraWeights.Lease loras = loraWeights.acquire(variant, plan.loras());
                Precision.Scope precision = Precision.use(plan.precision())) {
            EngineThreads.useOnThisThread(plan.threads());
            GuidedDenoiser denoiser = variant.denoiser();
            long textStart = System.nanoTime();
            NDList text = ImageRun.encodeText(scope, variant, plan.prompt(), plan.negativePrompt(), plan.clipSkip());
            double textMs = millisSince(textStart);
            ImageRun run = new ImageRun(scope, plan, denoiser, text, latentShape, recorded, callback, trace);
            List<RgbImage> images = new ArrayList<>();
            for (int k = 0; k < used.batchCount(); k++) {
                RgbImage image = run.image(scope, k, images);
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

    /** Who runs on which fused LoRAs; for tests. */
    LoraWeights loraWeights() {
        return loraWeights;
    }

    private NDManager newScope() {
        requireOpen();
        return root.newSubManager();
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
