package dev.mdx.bench;

import com.fasterxml.jackson.annotation.JsonCreator;
import dev.mdx.MdxException;
import dev.mdx.models.ArchitecturePresets;
import dev.mdx.tensor.Precision;
import java.nio.file.Path;
import java.util.List;

/**
 * What a benchmark times and how often. Invalid values are {@link MdxException}s: they come from a person.
 *
 * @param components the preset components to time, from {@link #COMPONENTS}, in this order
 * @param latent the UNet latent size of presets (64 = 512x512 output with an 8x VAE)
 * @param imageSize the image size the VAE decoders produce; a multiple of each preset's VAE factor
 * @param batches the UNet batch sizes
 * @param trainBatch the batch of the {@code train} component, at the UNet's sample_size
 * @param warmup untimed runs before the timed ones
 * @param repeats timed runs per operation (the median is reported)
 * @param skipLoad do not time writing and loading preset weights
 * @param profileDir where each operation's profiler trace goes, or null for no profiling
 * @param engineThreads the engine threads, or null for the engine's default; a fresh JVM applies it, this one
 *     is the caller's to set
 * @param steps the step counts of the {@code e2e} component
 * @param guided whether {@code e2e} runs classifier-free guidance (UNet batch 2, two prompts encoded)
 * @param e2eFullDecoder whether {@code e2e} also times the full decoder (always where there is no light one)
 * @param precision the inference precision of every component but {@code train}; resolve it first (fp32 where
 *     the CPU lacks bf16)
 */
public record BenchSettings(List<String> components, int latent, int imageSize, List<Integer> batches,
        int trainBatch, int warmup, int repeats, boolean skipLoad, Path profileDir, Integer engineThreads,
        List<Integer> steps, boolean guided, boolean e2eFullDecoder, Precision precision) {
    /**
     * Text encoder, UNet forward, VAE decoders (full and light), UNet forward + backward, and one image end to end
     * (text encoder, the UNet calls of {@link #steps}, both decoders).
     */
    public static final List<String> COMPONENTS = List.of("text", "unet", "vae", "train", "e2e");

    @JsonCreator
    public BenchSettings {
        if (repeats < 1 || warmup < 0 || latent < 1 || imageSize < 1 || trainBatch < 1) {
            throw new MdxException("repeats, latent, image size and train batch must be >= 1, warmup >= 0");
        }
        for (int n : steps) {
            if (n < 1) {
                throw new MdxException("step counts must be >= 1, got " + n);
            }
        }
        if (precision == null) {
            throw new MdxException("no precision given");
        }
        for (int b : batches) {
            if (b < 1) {
                throw new MdxException("batch sizes must be >= 1, got " + b);
            }
        }
        for (String c : components) {
            if (!COMPONENTS.contains(c)) {
                throw new MdxException("unknown component '" + c + "' (" + String.join(", ", COMPONENTS) + ")");
            }
        }
        components = List.copyOf(components);
        batches = List.copyOf(batches);
        steps = List.copyOf(steps);
    }

    /** Without the e2e settings: one step, unguided, fp32. */
    public BenchSettings(List<String> components, int latent, int imageSize, List<Integer> batches, int trainBatch,
            int warmup, int repeats, boolean skipLoad, Path profileDir, Integer engineThreads) {
        this(components, latent, imageSize, batches, trainBatch, warmup, repeats, skipLoad, profileDir, engineThreads,
                List.of(1), false, true, Precision.FP32);
    }

    /** Fails unless {@code preset} is a shipped preset whose VAE decodes {@link #imageSize} (when timed). */
    public void checkPreset(String preset) {
        if (!ArchitecturePresets.NAMES.contains(preset)) {
            throw new MdxException("unknown preset '" + preset + "' (presets: "
                    + String.join(", ", ArchitecturePresets.NAMES) + ")");
        }
        if (components.contains("vae") || components.contains("e2e")) {
            // the light decoder shares the full VAE's encoder, so its factor too
            int f = ArchitecturePresets.vae(preset).downsampleFactor();
            if (imageSize % f != 0) {
                throw new MdxException("image size " + imageSize + " is not a multiple of " + preset
                        + "'s VAE factor " + f);
            }
        }
    }
}
