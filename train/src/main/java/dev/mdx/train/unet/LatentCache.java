package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.vae.AutoencoderKL;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * The VAE latents of a data set's images, computed once and kept in a safetensors file: the denoiser trains
 * on latents, and encoding each image at every step would cost more than the UNet step itself.
 * Latents are the posterior means, shifted and scaled as the pipeline expects: (mean - shift) * scaling_factor.
 */
public final class LatentCache {
    private static final int ENCODE_BATCH = 64;

    private LatentCache() {}

    /**
     * The latents of {@code indices} as one (N, C, h, w) array; read from {@code file} when it was made from the
     * same data set, split and encoder (by content: a light-decoder VAE shares its base's latents).
     */
    public static NDArray load(Path file, ImageDataset data, int[] indices, AutoencoderKL vae, NDManager manager,
            PrintStream log) {
        return load(file, data, indices, vae, manager, log, "");
    }

    /** Like the above for a subset of the split; {@code selection} names it (empty for the whole split). */
    public static NDArray load(Path file, ImageDataset data, int[] indices, AutoencoderKL vae, NDManager manager,
            PrintStream log, String selection) {
        String key = data.dir().toAbsolutePath().normalize() + "|" + data.info().count() + "|" + indices.length + "|"
                + encoderFingerprint(vae) + (selection.isEmpty() ? "" : "|" + selection);
        if (Files.isRegularFile(file)) {
            try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
                if (key.equals(st.metadata().get("key"))) {
                    return st.load("latents", manager);
                }
            }
        }
        NDArray latents = encode(data, indices, vae, manager, log);
        SafeTensorsWriter.write(file, Map.of("latents", latents), Map.of("key", key));
        return latents;
    }

    /** SHA-256 of what the latents depend on: the encoder and quant_conv weights, the shift and the scale. */
    static String encoderFingerprint(AutoencoderKL vae) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sha.update((vae.scalingFactor() + "|" + vae.config().shiftFactor().orElse(0)).getBytes(StandardCharsets.UTF_8));
        new TreeMap<>(vae.namedParameters()).forEach((k, p) -> {
            if (k.startsWith("encoder.") || k.startsWith("quant_conv.")) {
                sha.update(k.getBytes(StandardCharsets.UTF_8));
                sha.update(p.get().toByteArray());
            }
        });
        return HexFormat.of().formatHex(sha.digest());
    }

    static NDArray encode(ImageDataset data, int[] indices, AutoencoderKL vae, NDManager manager, PrintStream log) {
        int inChannels = vae.config().inChannels();
        double shift = vae.config().shiftFactor().orElse(0);
        float scale = (float) vae.scalingFactor();
        float[] all = null;
        long[] latentDims = null;
        for (int start = 0; start < indices.length; start += ENCODE_BATCH) {
            int[] chunk = java.util.Arrays.copyOfRange(indices, start, Math.min(indices.length, start + ENCODE_BATCH));
            try (NDManager scope = manager.newSubManager()) {
                NDArray images = data.batch(scope, chunk);
                if (images.getShape().get(1) == 1 && inChannels == 3) {
                    images = images.repeat(1, 3); // gray data into an RGB autoencoder
                }
                NDArray mean = vae.encode(images).mean().sub((float) shift).mul(scale);
                if (all == null) {
                    latentDims = mean.getShape().getShape();
                    all = new float[(int) (indices.length * mean.getShape().size() / chunk.length)];
                }
                float[] part = mean.toFloatArray();
                System.arraycopy(part, 0, all, (int) ((long) start * part.length / chunk.length), part.length);
            }
            int done = Math.min(indices.length, start + ENCODE_BATCH);
            if (done == indices.length || (done / ENCODE_BATCH) % 20 == 0) {
                log.printf("  encoded %d/%d%n", done, indices.length);
            }
        }
        latentDims[0] = indices.length;
        return manager.create(all, new Shape(latentDims));
    }
}
