package dev.mdx.models;

import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.ModelFormatException;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.VaeConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The component configs of a model, as far as they are known: a preset has all of them, a pipeline folder the
 * ones it holds, a single component folder one. Weights are never read.
 *
 * @param name the preset name or folder
 * @param unet the UNet config, or null
 * @param textEncoder the text encoder config, or null
 * @param vae the VAE config, or null
 * @param vaeLight the same VAE with a light decoder, or null
 */
public record ModelConfigs(String name, UNetConfig unet, ClipTextConfig textEncoder, VaeConfig vae,
        VaeConfig vaeLight) {

    /** A shipped preset by name. */
    public static ModelConfigs preset(String name) {
        return new ModelConfigs(name, ArchitecturePresets.unet(name), ArchitecturePresets.textEncoder(name),
                ArchitecturePresets.vae(name), ArchitecturePresets.has(name, ArchitecturePresets.VAE_LIGHT)
                        ? ArchitecturePresets.vaeLight(name) : null);
    }

    /**
     * A diffusers pipeline folder (any of {@code unet/}, {@code text_encoder/}, {@code vae/} with a config.json), or
     * one component folder whose config.json names a UNet2DConditionModel, AutoencoderKL or CLIPTextModel.
     */
    public static ModelConfigs folder(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir + " is not a folder");
        }
        Path own = dir.resolve("config.json");
        if (Files.isRegularFile(own)) {
            JsonConfig json = JsonConfig.read(own);
            String cls = json.getString("_class_name", "");
            if (cls.equals(UNetConfig.CLASS_NAME)) {
                return new ModelConfigs(dir.toString(), UNetConfig.fromJson(json), null, null, null);
            }
            if (cls.equals("AutoencoderKL")) {
                return new ModelConfigs(dir.toString(), null, null, VaeConfig.from(json), null);
            }
            if (json.has("architectures") || json.getString("model_type", "").equals("clip_text_model")) {
                return new ModelConfigs(dir.toString(), null, ClipTextConfig.from(json), null, null);
            }
            throw json.error("_class_name", "is '" + cls + "'; expected UNet2DConditionModel, AutoencoderKL or a "
                    + "CLIPTextModel config");
        }
        Path unet = dir.resolve(ModelFolder.UNET).resolve("config.json");
        Path text = dir.resolve(ModelFolder.TEXT_ENCODER).resolve("config.json");
        Path vae = dir.resolve(ModelFolder.VAE).resolve("config.json");
        if (!Files.isRegularFile(unet) && !Files.isRegularFile(text) && !Files.isRegularFile(vae)) {
            throw new ModelFormatException(dir + " has no config.json, nor unet/, text_encoder/ or vae/ with one");
        }
        return new ModelConfigs(dir.toString(),
                Files.isRegularFile(unet) ? UNetConfig.read(unet) : null,
                Files.isRegularFile(text) ? ClipTextConfig.read(text) : null,
                Files.isRegularFile(vae) ? VaeConfig.read(vae) : null,
                null);
    }

    /** A folder if {@code modelOrPreset} names an existing path, else a preset. */
    public static ModelConfigs resolve(String modelOrPreset) {
        Path path = Path.of(modelOrPreset);
        if (Files.exists(path)) {
            return folder(path);
        }
        if (!ArchitecturePresets.NAMES.contains(modelOrPreset)) {
            throw new ModelFormatException("'" + modelOrPreset + "' is neither a model folder nor a preset (presets: "
                    + String.join(", ", ArchitecturePresets.NAMES) + ")");
        }
        return preset(modelOrPreset);
    }
}
