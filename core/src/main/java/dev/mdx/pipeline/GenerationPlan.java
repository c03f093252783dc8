package dev.mdx.pipeline;

import dev.mdx.sampling.EditStart;
import dev.mdx.lora.LoraSet;
import dev.mdx.sampling.Sampler;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.prompt.ChunkedPrompt;
import dev.mdx.unet.Guidance;
import dev.mdx.tensor.Precision;
import dev.mdx.vae.VaeTiling;
import java.util.List;
import java.util.Optional;

/**
 * A request checked against the model and resolved once, ready to run: which UNet (the base or a student), every
 * value the request left unset, the seed, the sampler's timesteps, the guidance, the engine threads, the
 * tokenized prompts and what to tell the user. Made by {@link TextToImagePipeline#plan}; run it with
 * {@link TextToImagePipeline#generate(GenerationPlan, StepCallback, ImageCallback)} on the pipeline that made it.
 */
public final class GenerationPlan {
    private final TextToImagePipeline owner;
    private final ModelVariant variant;
    private final GenerationParameters parameters;
    private final Sampler sampler;
    private final EditStart start;
    private final PreparedEdit edit;
    private final Guidance guidance;
    private final VaeTiling tiling;
    private final int threads;
    private final ChunkedPrompt prompt;
    private final ChunkedPrompt negativePrompt;
    private final List<String> notes;
    private final List<String> warnings;
    private final LoraSet loras;
    private final PlannedControl control;
    private final Precision precision;

    GenerationPlan(TextToImagePipeline owner, ModelVariant variant, GenerationParameters parameters, Sampler sampler,
            EditStart start, PreparedEdit edit, Guidance guidance, VaeTiling tiling, int threads, ChunkedPrompt prompt,
            ChunkedPrompt negativePrompt, List<String> notes, List<String> warnings, LoraSet loras,
            PlannedControl control, Precision precision) {
        this.owner = owner;
        this.variant = variant;
        this.parameters = parameters;
        this.sampler = sampler;
        this.start = start;
        this.edit = edit;
        this.guidance = guidance;
        this.tiling = tiling;
        this.threads = threads;
        this.prompt = prompt;
        this.negativePrompt = negativePrompt;
        this.notes = List.copyOf(notes);
        this.warnings = List.copyOf(warnings);
        this.loras = loras;
        this.control = control;
        this.precision = precision;
    }

    /** The precision the layers run in: the request's, or fp32 where the CPU lacks bf16 (then a note says so). */
    public Precision precision() {
        return precision;
    }

    /** Every value the run uses, the random seed resolved: what the images' PNG text records. */
    public GenerationParameters parameters() {
        return parameters;
    }

    /** The student that runs the request, or empty for the base model. */
    public Optional<Students.Student> student() {
        return Optional.ofNullable(variant.student());
    }

    /** The configuration of the model that runs the request (the student's where one runs). */
    public PipelineConfig config() {
        return variant.config();
    }

    /** The sampler's plan; an edit enters it at {@link #firstStep()}. */
    public SamplingPlan samplingPlan() {
        return start.plan();
    }

    /** The plan's step the run starts at: 0, or later for an edited image at a strength below 1. */
    public int firstStep() {
        return start.start();
    }

    /** Whether the request edits an image. */
    public boolean editsImage() {
        return edit != null;
    }

    /** Whether a control adapter steers the run. */
    public boolean controlled() {
        return control != null;
    }

    /** Whether the plan runs alone rather than in a batch with others: an image edit or a controlled run. */
    public boolean runsAlone() {
        return edit != null || control != null;
    }

    public Guidance guidance() {
        return guidance;
    }

    /** How the VAE decodes: whole, or in tiles when the whole decode would not fit the machine's memory. */
    public VaeTiling vaeTiling() {
        return tiling;
    }

    /** Engine threads per operation. */
    public int threads() {
        return threads;
    }

    /** UNet evaluations of the whole batch (what a progress bar counts). */
    public int totalSteps() {
        return parameters.batchCount() * start.steps();
    }

    /** Facts for the user about the model that runs (a student chosen, a scheduler replaced). */
    public List<String> notes() {
        return notes;
    }

    /** Things the request asked for that will not happen as asked (a prompt cut, an ignored negative prompt). */
    public List<String> warnings() {
        return warnings;
    }

    /**
     * The LoRAs the run fuses into the UNet and the text encoder (the request's, then the prompt's tags), each
     * matched to the model: what each file applies is in {@link dev.mdx.lora.BoundLora#summary()}.
     */
    public LoraSet loras() {
        return loras;
    }

    /** A1111's clip skip the prompts are encoded with (1 = the text encoder's last layer). */
    public int clipSkip() {
        return parameters.clipSkip();
    }

    TextToImagePipeline owner() {
        return owner;
    }

    ModelVariant variant() {
        return variant;
    }

    /** The sampler the plan steps with (another engine runs the same steps). */
    public Sampler sampler() {
        return sampler;
    }

    /** The prepared edit, or null for text to image. */
    PreparedEdit edit() {
        return edit;
    }

    /** The resolved control, or null. */
    PlannedControl control() {
        return control;
    }

    /** The prompt's token chunks, weights and embedding vectors. */
    public ChunkedPrompt prompt() {
        return prompt;
    }

    /** The negative prompt's chunks with classifier-free guidance, else null. */
    public ChunkedPrompt negativePrompt() {
        return negativePrompt;
    }
}
