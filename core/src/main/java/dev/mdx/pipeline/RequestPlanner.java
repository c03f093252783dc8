package dev.mdx.pipeline;

import dev.mdx.sampling.Sampler;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.memory.InsufficientMemoryException;
import dev.mdx.memory.MemoryEstimate;
import dev.mdx.memory.MemoryEstimator;
import dev.mdx.memory.MemoryLimit;
import dev.mdx.sampling.EditStart;
import dev.mdx.prompt.ChunkedPrompt;
import dev.mdx.prompt.EmbeddingLibrary;
import dev.mdx.prompt.PromptChunker;
import dev.mdx.prompt.PromptEncoder;
import dev.mdx.text.TokenizedPrompt;
import dev.mdx.unet.Guidance;
import dev.mdx.tensor.Precision;
import dev.mdx.vae.VaeTiling;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Turns a request into a {@link GenerationPlan} for one model variant: fills what the request left unset from the
 * variant's defaults, checks it against the model, resolves the seed, plans the sampler's steps, decides the
 * guidance and the engine threads, tokenizes the prompts and collects what to tell the user. Everything that can
 * be known before a run is decided here, once.
 */
final class RequestPlanner {
    private final TextToImagePipeline owner;
    /** The base model's folder, against which a student's folder is named. */
    private final Path baseRoot;
    /** The pipeline's engine threads, or null for {@link ThreadPolicy}'s choice per request. */
    private final Integer threads;
    private final LoraPlanner loras;
    private final EmbeddingLibrary embeddings;
    private final ControlPlanner controls;

    RequestPlanner(TextToImagePipeline owner, Path baseRoot, Integer threads, LoraPlanner loras,
            EmbeddingLibrary embeddings, ControlPlanner controls) {
        this.controls = controls;
        this.owner = owner;
        this.embeddings = embeddings;
        this.baseRoot = baseRoot;
        this.threads = threads;
        this.loras = loras;
    }

    EmbeddingLibrary embeddings() {
        return embeddings;
    }

    /** The plan of {@code request} on {@code variant}, tokenizing its prompts. */
    GenerationPlan plan(GenerationRequest request, ModelVariant variant) {
        return draft(request, variant, (text, guided, notes) -> chunk(variant, text, request.negativePrompt(),
                guided, notes)).finish(variant);
    }

    /** The plan with the prompts given as token ids of the variant's text length. */
    GenerationPlan plan(GenerationRequest request, ModelVariant variant, TokenizedPrompt prompt,
            TokenizedPrompt negativePrompt) {
        Objects.requireNonNull(prompt, "prompt");
        return draft(request, variant, (text, guided, notes) -> {
            if (guided) {
                Objects.requireNonNull(negativePrompt, "a guided request needs negative prompt ids");
            }
            TokenizedPrompt negative = guided ? negativePrompt : null;
            List<String> warnings = new ArrayList<>();
            for (TokenizedPrompt p : Arrays.asList(prompt, negative)) {
                if (p != null && p.inputIds().length != variant.textLength()) {
                    throw new IllegalArgumentException("prompt ids must be " + variant.textLength() + " long, got "
                            + p.inputIds().length);
                }
                if (p != null && p.truncated()) {
                    warnings.add("a prompt of " + p.untruncatedLength() + " tokens was cut to "
                            + variant.textLength());
                }
            }
            return new Prompts(ChunkedPrompt.of(prompt), negative == null ? null : ChunkedPrompt.of(negative),
                    warnings);
        }).finish(variant);
    }

    /** The conditioning prompts of a request, and what to warn about them. */
    record Prompts(ChunkedPrompt prompt, ChunkedPrompt negative, List<String> warnings) {
        int chunks() {
            return prompt.chunkCount();
        }
    }

    /** Makes the prompts once the LoRA tags are out of the text and the guidance is known. */
    private interface PromptSource {
        Prompts make(String promptWithoutTags, boolean guided, List<String> notes);
    }

    /** The request's values filled from the variant's defaults and checked against it. */
    private Draft draft(GenerationRequest request, ModelVariant variant, PromptSource promptSource) {
        PipelineConfig config = variant.config();
        GenerationDefaults d = config.defaults();
        int width = request.width() != null ? request.width() : d.width();
        int height = request.height() != null ? request.height() : d.height();
        int steps = request.steps() != null ? request.steps() : d.steps();
        double cfg = request.cfgScale() != null ? request.cfgScale() : d.cfgScale();
        SamplerKind kind = request.sampler() != null ? request.sampler() : d.sampler();
        List<String> notes = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        ImageEdit edit = request.edit();
        if (config.inpaintingUnet() && (edit == null || !edit.masked())) {
            throw new InvalidRequestException("mask", "is required: this model's UNet is an inpainting UNet ("
                    + config.unet().inChannels() + " input channels: latents, mask and masked image); give an image"
                    + " and a mask");
        }
        Sampler sampler = config.sampler(kind, request.eta());
        Guidance guidance = Guidance.of(config.unet(), cfg);
        int clipSkip = request.clipSkip() != null ? request.clipSkip() : PromptEncoder.DEFAULT_CLIP_SKIP;
        try {
            PromptEncoder.checkClipSkip(clipSkip, config.textEncoder().numHiddenLayers());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("clipSkip", e.getMessage());
        }
        LoraPlanner.Resolved resolvedLoras = loras.resolve(request, variant);
        warnings.addAll(resolvedLoras.warnings());
        Prompts prompts = promptSource.make(resolvedLoras.prompt(), guidance.needsUnconditional(), notes);
        warnings.addAll(prompts.warnings());
        // the output size, checked against the model and the machine's memory before any pixel is touched
        Padding pad = edit == null ? null : edit.outpaint();
        int outWidth = pad == null ? width : width + pad.left() + pad.right();
        int outHeight = pad == null ? height : height + pad.top() + pad.bottom();
        config.validateSize(outWidth, outHeight);
        Precision precision = request.precision() == null ? Precision.machineDefault()
                : Precision.resolve(request.precision());
        VaeTiling tiling = memoryCheck(request, variant, guidance, precision, outWidth, outHeight, prompts.chunks(),
                notes);
        PreparedEdit prepared = null;
        EditStart start;
        if (edit == null) {
            start = new EditStart(config.plan(sampler, steps), 0);
        } else {
            prepared = prepare(edit, width, height, config, sampler, steps, notes, warnings);
            width = prepared.image().width();
            height = prepared.image().height();
            start = prepared.start();
        }
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
        PlannedControl control = controls.plan(request.control(), variant, outWidth, outHeight, notes);
        long seed = request.seed() >= 0 ? request.seed() : GenerationRequest.randomSeed();
        GenerationParameters used = new GenerationParameters(request.prompt(), request.negativePrompt(), steps, cfg,
                seed, width, height, request.batchCount(), kind, config.samplerDisplayName(kind), request.eta(),
                config.modelName(), prepared == null ? null : prepared.strength(), request.loras().stream()
                        .map(l -> l.path().getFileName() + ":" + GenerationParameters.number(l.scale())).toList(),
                clipSkip, control == null ? null : control.infotextEntry(), precision);
        String precisionNote = request.precision() == null ? null : Precision.fallbackNote(request.precision());
        if (precisionNote != null) {
            notes.add(precisionNote);
        }
        return new Draft(used, sampler, start, prepared, guidance, tiling, notes, warnings, resolvedLoras, prompts,
                control, precision);
    }

    /**
     * The VAE tiling the request runs with, once its peak memory is known to fit the machine: the request's own, or
     * without one whole, and tiles when only the decode would not fit (with a note).
     *
     * @throws dev.mdx.memory.InsufficientMemoryException with the estimate, the limit and what would fit
     */
    private static VaeTiling memoryCheck(GenerationRequest request, ModelVariant variant, Guidance guidance,
            Precision precision, int width, int height, int promptChunks, List<String> notes) {
        MemoryLimit limit = MemoryLimit.detect();
        VaeTiling asked = request.vaeTilePixels() == null ? null : request.vaeTilePixels() == 0 ? VaeTiling.NONE
                : VaeTiling.pixelTiles(request.vaeTilePixels(), variant.config().vaeScaleFactor());
        try {
            MemoryEstimator estimator = variant.memory().forPromptChunks(promptChunks);
            if (precision == Precision.BF16) {
                estimator = estimator.withBf16WeightCopies();
            }
            estimator.check(guidance.batchPerImage(), height, width,
                    asked == null ? VaeTiling.NONE : asked, limit);
            return asked == null ? VaeTiling.NONE : asked;
        } catch (InsufficientMemoryException e) {
            if (asked != null || e.tilingThatFits().isEmpty()) {
                throw e;
            }
            VaeTiling tiles = e.tilingThatFits().get();
            int px = tiles.tileLatentSize() * variant.config().vaeScaleFactor();
            notes.add("the VAE decodes in tiles of " + px + "x" + px + " pixels: the whole " + width + "x" + height
                    + " decode would not fit in " + MemoryEstimate.format(limit.bytes()) + " (" + limit.source()
                    + ")");
            return tiles;
        }
    }

    /**
     * The edit at the output size: the image fitted to w x h (and for outpainting grown by the border), the binary
     * mask checked and fitted alike, and the sampling plan entered at the strength's step.
     */
    private static PreparedEdit prepare(ImageEdit edit, int width, int height, PipelineConfig config, Sampler sampler,
            int steps, List<String> notes, List<String> warnings) {
        EditImages.Fitted<RgbImage> fitted = EditImages.fit(edit.image(), width, height, "init image");
        if (fitted.note() != null) {
            notes.add(fitted.note());
        }
        RgbImage image = fitted.image();
        GrayImage mask = null;
        if (edit.mask() != null) {
            EditImages.requireBlackAndWhite(edit.mask());
            mask = EditImages.fit(edit.mask(), width, height);
        } else if (edit.outpaint() != null) {
            mask = EditImages.borderMask(width, height, edit.outpaint());
            image = EditImages.extend(image, edit.outpaint());
        }
        double strength = edit.strengthOrDefault();
        EditStart start = config.planEdit(sampler, steps, strength);
        if (start.steps() == 0) {
            warnings.add("strength " + GenerationParameters.number(strength) + " runs no denoising step at " + steps
                    + " steps: the image only makes the round trip through the VAE");
        }
        float[] binary = mask == null ? null : EditImages.binary(mask);
        float[] alpha = binary == null || !edit.pasteBack() ? null
                : EditImages.pasteAlpha(binary, image.width(), image.height(), edit.maskBlur());
        return new PreparedEdit(image, binary, alpha, start, strength);
    }

    /** What {@link #draft} decided. */
    private final class Draft {
        final GenerationParameters used;
        final Sampler sampler;
        final EditStart start;
        final PreparedEdit edit;
        final Guidance guidance;
        final VaeTiling tiling;
        final List<String> notes;
        final List<String> warnings;
        final LoraPlanner.Resolved loras;
        final Prompts prompts;
        final PlannedControl control;
        final Precision precision;

        Draft(GenerationParameters used, Sampler sampler, EditStart start, PreparedEdit edit, Guidance guidance,
                VaeTiling tiling, List<String> notes, List<String> warnings, LoraPlanner.Resolved loras,
                Prompts prompts, PlannedControl control, Precision precision) {
            this.control = control;
            this.precision = precision;
            this.used = used;
            this.sampler = sampler;
            this.start = start;
            this.edit = edit;
            this.guidance = guidance;
            this.tiling = tiling;
            this.notes = notes;
            this.warnings = warnings;
            this.loras = loras;
            this.prompts = prompts;
        }

        GenerationPlan finish(ModelVariant variant) {
            PipelineConfig config = variant.config();
            int factor = config.vaeScaleFactor();
            int engineThreads = threads != null ? threads
                    : ThreadPolicy.threadsFor(config, guidance, used.height() / factor, used.width() / factor);
            List<String> all = new ArrayList<>(config.notes());
            if (variant.student() != null) {
                all.add(0, used.steps() + " steps: using " + variant.student().describe(used.steps()) + " ("
                        + Students.relativeName(baseRoot, variant.student()) + ")");
            }
            all.addAll(notes);
            all.addAll(loras.notes());
            return new GenerationPlan(owner, variant, used, sampler, start, edit, guidance, tiling, engineThreads,
                    prompts.prompt(), prompts.negative(), all, warnings, loras.set(), control, precision);
        }
    }

    /**
     * The prompt (and with guidance the negative prompt) in chunks of the text encoder's length, with their attention
     * weights and the embeddings they name, padded to the same number of chunks.
     */
    private Prompts chunk(ModelVariant variant, String prompt, String negative, boolean guided, List<String> notes) {
        PromptChunker chunker = new PromptChunker(variant.tokenizer(), variant.textLength(),
                variant.config().textEncoder().hiddenSize(), embeddings);
        ChunkedPrompt p = chunk(chunker, prompt, "prompt", variant, notes);
        ChunkedPrompt n = guided ? chunk(chunker, negative, "negativePrompt", variant, notes) : null;
        if (n != null && n.chunkCount() != p.chunkCount()) {
            ChunkedPrompt empty = chunker.chunk("");
            int chunks = Math.max(p.chunkCount(), n.chunkCount());
            p = p.padTo(chunks, empty);
            n = n.padTo(chunks, empty);
        }
        return new Prompts(p, n, List.of());
    }

    private static ChunkedPrompt chunk(PromptChunker chunker, String text, String field, ModelVariant variant,
            List<String> notes) {
        ChunkedPrompt c;
        try {
            c = chunker.chunk(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(field, e.getMessage());
        }
        String what = field.equals("prompt") ? "the prompt" : "the negative prompt";
        if (c.chunkCount() > 1) {
            notes.add(what + " is " + c.tokens() + " tokens long: encoded in " + c.chunkCount() + " chunks of "
                    + (variant.textLength() - 2));
        }
        for (String name : c.embeddings()) {
            notes.add(what + " uses the embedding " + name);
        }
        return c;
    }
}
