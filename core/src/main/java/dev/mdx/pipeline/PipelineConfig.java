package dev.mdx.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.ModelFormatException;
import dev.mdx.sampling.Sampler;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.sampling.SamplerOptions;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.VaeConfig;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The configuration of a text-to-image pipeline folder, read from its config files alone (no weights), so that a
 * request can be checked before gigabytes load. The scheduler is chosen as diffusers does: the class named in
 * {@code model_index.json} (else {@code _class_name} of {@code scheduler/scheduler_config.json}) with that file's
 * values.
 *
 * @param modelName the folder's name
 * @param schedulerClass the diffusers scheduler class the folder names
 * @param defaults what requests use for unset values
 * @param notes remarks for the user about the folder (a scheduler class we replace with another sampler, a UNet
 *     that takes the guidance scale as an input)
 */
public record PipelineConfig(String modelName, UNetConfig unet, VaeConfig vae, ClipTextConfig textEncoder,
        ScheduleConfig schedule, SamplerOptions samplerOptions, String schedulerClass, GenerationDefaults defaults,
        List<String> notes) {

    /** Used when the folder's scheduler class is one we do not implement (SD 1.x ships PNDMScheduler). */
    public static final SamplerKind FALLBACK_SAMPLER = SamplerKind.DDIM;
    /** model_index.json key: the default step count of a distilled model. */
    public static final String DISTILLED_STEPS_KEY = "_mdx_student_steps";
    /** model_index.json key: [min, max], the CFG scales a w-conditioned student was distilled for. */
    public static final String GUIDANCE_RANGE_KEY = "_mdx_guidance_range";

    public PipelineConfig {
        Objects.requireNonNull(modelName, "modelName");
        notes = List.copyOf(notes);
    }

    /** Reads and cross-checks the configs of a folder opened with {@link ModelFolder#open}. */
    public static PipelineConfig read(ModelFolder folder) {
        UNetConfig unet = UNetConfig.read(folder.unetConfig());
        VaeConfig vae = VaeConfig.read(folder.vaeConfig());
        ClipTextConfig text = ClipTextConfig.read(folder.textEncoderConfig());
        checkCompatible(folder, unet, vae, text);
        JsonConfig schedulerJson = ScheduleConfig.readJson(folder.schedulerConfig());
        ScheduleConfig schedule = ScheduleConfig.parse(schedulerJson);
        SamplerOptions options = SamplerOptions.parse(schedulerJson);
        // model_index.json, read once for the scheduler class and mdx's keys; a missing node when there is none
        JsonNode index = Files.isRegularFile(folder.modelIndex())
                ? JsonConfig.read(folder.modelIndex()).root() : MissingNode.getInstance();
        String schedulerClass = schedulerClass(index, schedulerJson);
        List<String> notes = new ArrayList<>();
        SamplerKind sampler = SamplerKind.fromDiffusersClass(schedulerClass).orElse(null);
        if (sampler == null) {
            sampler = FALLBACK_SAMPLER;
            notes.add("the model's scheduler " + schedulerClass + " is not implemented; sampling with "
                    + sampler.cliName() + " by default (choose another with the sampler setting)");
        }
        if (unet.hasTimeCondProj()) {
            notes.add("the model takes the guidance scale as an input" + guidanceRange(index) + ": one UNet pass per"
                    + " step at any CFG scale, and no negative prompt");
        }
        int factor = vae.downsampleFactor();
        // diffusers: unet.config.sample_size * vae_scale_factor; the VAE's own sample size when the UNet has none
        int size = unet.sampleSize() != null ? unet.sampleSize() * factor : vae.sampleSize();
        GenerationDefaults defaults = GenerationDefaults.forSampler(size, size, sampler);
        int distilledSteps = distilledSteps(index);
        if (distilledSteps > 0) {
            defaults = new GenerationDefaults(size, size, distilledSteps, defaults.cfgScale(), sampler);
        }
        return new PipelineConfig(folder.name(), unet, vae, text, schedule, options, schedulerClass, defaults,
                notes);
    }

    /** Pixels per latent pixel along each side (diffusers' vae_scale_factor). */
    public int vaeScaleFactor() {
        return vae.downsampleFactor();
    }

    /** Channels of the latents the UNet denoises. */
    public int latentChannels() {
        return unet.inChannels();
    }

    /**
     * Whether the UNet takes the guidance scale as an input ({@code time_cond_proj_dim}: a w-conditioned student of
     * {@code mdx train distill}, or an LCM UNet): one UNet pass per step at any scale, and no negative prompt.
     */
    public boolean guidanceInput() {
        return unet.hasTimeCondProj();
    }

    /** Whether a request runs classifier-free guidance: a scale above 1 on a UNet without a guidance input. */
    public boolean classifierFree(GenerationRequest request) {
        return request.guided() && !guidanceInput();
    }

    /** The UNet batch of one step: 2 with classifier-free guidance ([negative, prompt]), else 1. */
    public int unetBatch(GenerationRequest request) {
        return classifierFree(request) ? 2 : 1;
    }

    /** A request builder holding this model's defaults. */
    public GenerationRequest.Builder newRequest() {
        return GenerationRequest.builder(defaults);
    }

    /** A sampler of {@code kind} on this model's noise schedule and solver settings, with DDIM's eta. */
    public Sampler sampler(SamplerKind kind, double eta) {
        return kind.create(schedule, samplerOptions.withEta(eta));
    }

    /**
     * The checks of a request that need the model: sizes must be multiples of the VAE factor, and the sampler must
     * be able to plan the step count.
     *
     * @throws InvalidRequestException naming the field
     */
    public void validate(GenerationRequest request) {
        int factor = vaeScaleFactor();
        if (request.width() % factor != 0) {
            throw new InvalidRequestException("width", sizeProblem(request.width(), factor));
        }
        if (request.height() % factor != 0) {
            throw new InvalidRequestException("height", sizeProblem(request.height(), factor));
        }
        try {
            sampler(request.sampler(), request.eta()).plan(request.steps());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("steps", "cannot be " + request.steps() + " with " + request.sampler()
                    .cliName() + ": " + e.getMessage());
        }
    }

    /** The name of the sampler for people, with " Karras" where the schedule uses Karras sigmas (as the web UI). */
    public String samplerDisplayName(SamplerKind kind) {
        boolean karras = schedule.useKarrasSigmas()
                && (kind == SamplerKind.EULER || kind == SamplerKind.DPMPP_2M);
        return kind.a1111Name() + (karras ? " Karras" : "");
    }

    private static String sizeProblem(int value, int factor) {
        int below = value / factor * factor;
        return "must be a multiple of " + factor + " (the VAE's downsampling factor), got " + value
                + (below > 0 ? " (try " + below + " or " + (below + factor) + ")" : "");
    }

    /**
     * The step count a distilled model was made for ({@value #DISTILLED_STEPS_KEY} in model_index.json, written by
     * {@code mdx train distill} and {@code mdx train ufogen}), or 0.
     */
    private static int distilledSteps(JsonNode index) {
        JsonNode steps = index.get(DISTILLED_STEPS_KEY);
        return steps != null && steps.canConvertToInt() && steps.asInt() > 0 ? steps.asInt() : 0;
    }

    /** " (distilled for CFG scales A to B)" from {@value #GUIDANCE_RANGE_KEY}, or "" without a valid range. */
    private static String guidanceRange(JsonNode index) {
        JsonNode range = index.get(GUIDANCE_RANGE_KEY);
        if (range == null || !range.isArray() || range.size() != 2 || !range.get(0).isNumber()
                || !range.get(1).isNumber()) {
            return "";
        }
        return " (distilled for CFG scales " + GenerationParameters.number(range.get(0).asDouble()) + " to "
                + GenerationParameters.number(range.get(1).asDouble()) + ")";
    }

    private static String schedulerClass(JsonNode index, JsonConfig schedulerJson) {
        JsonNode entry = index.get(ModelFolder.SCHEDULER);
        if (entry != null && entry.isArray() && entry.size() == 2 && entry.get(1).isTextual()) {
            return entry.get(1).asText();
        }
        String cls = schedulerJson.getString("_class_name", null);
        if (cls == null) {
            throw schedulerJson.error("_class_name", "is missing and model_index.json names no scheduler class");
        }
        return cls;
    }

    private static void checkCompatible(ModelFolder folder, UNetConfig unet, VaeConfig vae, ClipTextConfig text) {
        List<String> problems = new ArrayList<>();
        if (unet.inChannels() != vae.latentChannels()) {
            problems.add("the UNet reads " + unet.inChannels() + " latent channels (in_channels) but the VAE has "
                    + vae.latentChannels() + " (latent_channels); inpainting and other conditioned UNets are not"
                    + " text-to-image models");
        }
        if (unet.outChannels() != vae.latentChannels()) {
            problems.add("the UNet writes " + unet.outChannels() + " channels (out_channels) but the VAE decodes "
                    + vae.latentChannels());
        }
        for (int dim : unet.crossAttentionDim()) {
            if (dim != text.hiddenSize()) {
                problems.add("the UNet attends to " + dim + "-wide text features (cross_attention_dim) but the text"
                        + " encoder produces " + text.hiddenSize() + " (hidden_size)");
                break;
            }
        }
        if (!problems.isEmpty()) {
            throw new ModelFormatException(folder.root() + ": components do not fit together: "
                    + String.join("; ", problems));
        }
    }
}
