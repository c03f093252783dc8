package dev.mdx.pipeline;

import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.ModelIndex;
import dev.mdx.io.ModelFormatException;
import dev.mdx.sampling.Sampler;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.sampling.SamplerOptions;
import dev.mdx.sampling.EditStart;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.VaeConfig;
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
        ModelIndex index = folder.index();
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
        if (index.studentSteps().isPresent()) {
            defaults = new GenerationDefaults(size, size, index.studentSteps().getAsInt(), defaults.cfgScale(),
                    sampler);
        }
        return new PipelineConfig(folder.name(), unet, vae, text, schedule, options, schedulerClass, defaults,
                notes);
    }

    /** Pixels per latent pixel along each side (diffusers' vae_scale_factor). */
    public int vaeScaleFactor() {
        return vae.downsampleFactor();
    }

    /** Channels of the latents the UNet denoises (its output; an inpainting UNet reads more). */
    public int latentChannels() {
        return unet.outChannels();
    }

    /** A sampler of {@code kind} on this model's noise schedule and solver settings, with DDIM's eta. */
    public Sampler sampler(SamplerKind kind, double eta) {
        return kind.create(schedule, samplerOptions.withEta(eta));
    }

    /**
     * Checks an image size against the model: each side a multiple of the VAE factor.
     *
     * @throws InvalidRequestException naming the field
     */
    public void validateSize(int width, int height) {
        int factor = vaeScaleFactor();
        if (width % factor != 0) {
            throw new InvalidRequestException("width", sizeProblem(width, factor));
        }
        if (height % factor != 0) {
            throw new InvalidRequestException("height", sizeProblem(height, factor));
        }
    }

    /**
     * The sampler's plan of {@code steps} steps on this model's schedule.
     *
     * @throws InvalidRequestException when the sampler cannot take that many steps
     */
    public SamplingPlan plan(Sampler sampler, int steps) {
        try {
            return sampler.plan(steps);
        } catch (IllegalArgumentException e) {
            throw stepsProblem(sampler, steps, e);
        }
    }

    /**
     * Where an image-to-image run at {@code strength} enters the sampler's plan of {@code steps} steps.
     *
     * @throws InvalidRequestException when the sampler cannot take that many steps
     */
    public EditStart planEdit(Sampler sampler, int steps, double strength) {
        try {
            return sampler.planEdit(steps, strength);
        } catch (IllegalArgumentException e) {
            throw stepsProblem(sampler, steps, e);
        }
    }

    private static InvalidRequestException stepsProblem(Sampler sampler, int steps, IllegalArgumentException e) {
        return new InvalidRequestException("steps", "cannot be " + steps + " with " + sampler.kind().cliName() + ": "
                + e.getMessage());
    }

    /**
     * Whether the UNet is a diffusers inpainting UNet: latents, the mask and the masked image's latents stacked on
     * the channel axis (in_channels = 2 latent channels + 1, 9 for SD).
     */
    public boolean inpaintingUnet() {
        return unet.inChannels() == 2 * vae.latentChannels() + 1;
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

    /** " (distilled for CFG scales A to B)" when the index gives the range, else "". */
    private static String guidanceRange(ModelIndex index) {
        return index.guidanceRange().map(r -> " (distilled for CFG scales " + GenerationParameters.number(r.min())
                + " to " + GenerationParameters.number(r.max()) + ")").orElse("");
    }

    private static String schedulerClass(ModelIndex index, JsonConfig schedulerJson) {
        if (index.schedulerClass().isPresent()) {
            return index.schedulerClass().get();
        }
        String cls = schedulerJson.getString("_class_name", null);
        if (cls == null) {
            throw schedulerJson.error("_class_name", "is missing and model_index.json names no scheduler class");
        }
        return cls;
    }

    private static void checkCompatible(ModelFolder folder, UNetConfig unet, VaeConfig vae, ClipTextConfig text) {
        List<String> problems = new ArrayList<>();
        if (unet.inChannels() != vae.latentChannels() && unet.inChannels() != 2 * vae.latentChannels() + 1) {
            problems.add("the UNet reads " + unet.inChannels() + " latent channels (in_channels) but the VAE has "
                    + vae.latentChannels() + " (latent_channels); a UNet of "
                    + (2 * vae.latentChannels() + 1) + " would be an inpainting UNet; other conditioned UNets are not"
                    + " supported");
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
