package dev.mdx.train.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.io.StateDicts;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.train.unet.LatentCache;
import dev.mdx.vae.AutoencoderKL;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The latent cache is keyed by what latents depend on: a new decoder reuses it, a changed encoder does not. */
class LatentCacheTest {
    @TempDir
    Path tmp;

    private record Load(float[] latents, boolean encoded) {}

    private static Load load(Path file, ImageDataset data, int[] indices, AutoencoderKL vae, NDManager m) {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        NDArray latents = LatentCache.load(file, data, indices, vae, m, new PrintStream(log, true,
                StandardCharsets.UTF_8));
        return new Load(latents.toFloatArray(), log.toString(StandardCharsets.UTF_8).contains("encoded"));
    }

    @Test
    void reusedAcrossDecodersAndRecomputedForANewEncoder() {
        ImageDataset data = TinyVae.write(tmp.resolve("data"), 8, 3);
        int[] indices = data.indices("train");
        Path file = tmp.resolve("latents.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            AutoencoderKL vae = new AutoencoderKL(TinyVae.config(3));
            StateDicts.initRandom(vae, m, 1);
            Load first = load(file, data, indices, vae, m);
            assertTrue(first.encoded(), "the first load encodes");

            vae.namedParameters().get("decoder.conv_out.weight").get().muli(0);
            Load sameEncoder = load(file, data, indices, vae, m);
            assertFalse(sameEncoder.encoded(), "another decoder reuses the cache");
            assertArrayEquals(first.latents(), sameEncoder.latents());

            vae.namedParameters().get("encoder.conv_in.weight").get().muli(2);
            Load newEncoder = load(file, data, indices, vae, m);
            assertTrue(newEncoder.encoded(), "a changed encoder encodes again");
            assertFalse(java.util.Arrays.equals(first.latents(), newEncoder.latents()));
        }
    }
}
