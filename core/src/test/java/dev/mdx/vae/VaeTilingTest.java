package dev.mdx.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.StateDicts;
import dev.mdx.tensor.Ops;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tiled VAE decoding: the tile layout, the blending, agreement with the whole decode, memory. */
class VaeTilingTest {
    /** A small VAE with diffusers' structure: factor 4, mid-block attention, 2 resnets per up block. */
    private static final VaeConfig SMALL = new VaeConfig(3, 3, 4, List.of(16, 32, 32), 1, 8, 0.18215,
            java.util.OptionalDouble.empty(), 64, true, true, true, null);

    @Test
    void tilesCoverEachSideWithExactOverlaps() {
        for (int tile : new int[] {4, 5, 8, 13, 16, 64}) {
            VaeTiling t = VaeTiling.latentTiles(tile);
            for (long n = 1; n <= 5 * tile; n++) {
                int count = t.tileCount(n);
                assertEquals(0, t.tileStart(0));
                assertEquals(n, t.tileStart(count - 1) + t.tileLength(count - 1, n), "tile " + tile + ", n " + n
                        + ": the last tile ends at the edge");
                for (int k = 0; k < count; k++) {
                    assertTrue(t.tileLength(k, n) <= tile);
                    if (k > 0) {
                        long overlap = t.tileStart(k - 1) + t.tileLength(k - 1, n) - t.tileStart(k);
                        assertEquals(t.overlap(), overlap, "tile " + tile + ", n " + n + ", tile " + k);
                        assertTrue(t.tileLength(k, n) > t.overlap(), "no pixel is in three tiles");
                    }
                }
                assertEquals(n <= tile, count == 1, "tile " + tile + ", n " + n + ": " + count + " tiles");
                assertEquals(count > 1, t.splits(n, 1));
            }
        }
        assertEquals(1, VaeTiling.NONE.tileCount(1000));
        assertThrows(IllegalArgumentException.class, () -> VaeTiling.latentTiles(3));
        assertEquals(64, VaeTiling.pixelTiles(512, 8).tileLatentSize());
    }

    /**
     * With a decoder that is exactly local (nearest-neighbour upsampling), the tiled result must equal the whole one:
     * tiles are cut where they belong, and the linear blend of two equal values gives the value back (up to one
     * float rounding of a * (1 - t) + a * t).
     */
    @Test
    void blendingReassemblesALocalDecoderExactly() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (long[] hw : new long[][] {{37, 53}, {16, 16}, {17, 40}, {64, 9}}) {
                NDArray latent = m.randomNormal(new Shape(2, 3, hw[0], hw[1]));
                NDArray whole = Ops.upsampleNearest2x(Ops.upsampleNearest2x(latent));
                for (int tile : new int[] {4, 8, 16}) {
                    NDArray tiled = VaeTiledDecode.decode(latent, VaeTiling.latentTiles(tile), 4,
                            x -> Ops.upsampleNearest2x(Ops.upsampleNearest2x(x)));
                    assertEquals(whole.getShape(), tiled.getShape());
                    float diff = whole.sub(tiled).abs().max().getFloat();
                    assertTrue(diff < 1e-6, hw[0] + "x" + hw[1] + ", tile " + tile + ": max difference " + diff);
                }
            }
        }
    }

    @Test
    void aTileCoveringTheLatentGivesTheWholeDecode() {
        for (VaeConfig config : List.of(SMALL, light())) {
            try (NDManager m = NDManager.newBaseManager()) {
                AutoencoderKL vae = randomVae(config, m);
                NDArray latent = m.randomNormal(new Shape(1, 4, 12, 10));
                NDArray whole = vae.decode(latent);
                for (int tile : new int[] {12, 16, 64}) {
                    NDArray tiled = vae.decode(latent, VaeTiling.latentTiles(tile));
                    assertEquals(0f, whole.sub(tiled).abs().max().getFloat(), "tile " + tile);
                }
                assertEquals(0f, whole.sub(vae.decode(latent, VaeTiling.NONE)).abs().max().getFloat());
            }
        }
    }

    /**
     * Smaller tiles change the result only through what each tile cannot see: GroupNorm statistics and the
     * mid-block attention over one tile instead of the whole latent, and zero padding at tile borders that the
     * blend mostly hides (diffusers accepts these visible-but-small seams). On the bundled trained VAEs, full and
     * light decoder, the difference must stay below half of what the VAE itself loses in a round trip of the same
     * image (measured: 0.11-0.22 of it with tiles of 16 latent pixels, 64 image pixels; 0.6-0.9 with tiles of 8).
     */
    @Test
    void smallerTilesStayCloseToTheWholeDecode() {
        Path models = Path.of(System.getProperty("mdx.home", ".")).resolve("models/emoji");
        try (NDManager m = NDManager.newBaseManager()) {
            for (String component : List.of("vae", "vae_light")) {
                AutoencoderKL vae = AutoencoderKL.load(models.resolve(component), m);
                int h = 160;
                int w = 144;
                float[] pixels = new float[3 * h * w];
                for (int c = 0; c < 3; c++) {
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) {
                            // smooth colour waves with a coarse checkerboard: edges and flat regions
                            pixels[(c * h + y) * w + x] = (float) (0.8 * Math.sin(x / 9.0 + c) * Math.cos(y / 13.0 - c)
                                    + 0.1 * ((x / 20 + y / 20) % 2));
                        }
                    }
                }
                NDArray image = m.create(pixels, new Shape(1, 3, h, w));
                NDArray latent = vae.encode(image).mode();
                NDArray whole = vae.decode(latent);
                double roundTrip = whole.sub(image).abs().mean().getFloat();
                for (int tile : new int[] {16, 24}) {
                    NDArray tiled = vae.decode(latent, VaeTiling.latentTiles(tile));
                    assertEquals(whole.getShape(), tiled.getShape());
                    assertTrue(tiled.isInfinite().logicalOr(tiled.isNaN()).none().getBoolean(), "finite");
                    double diff = whole.sub(tiled).abs().mean().getFloat();
                    System.out.printf("%s, tiles of %d: mean |tiled - whole| %.4f, round-trip error %.4f%n",
                            component, tile, diff, roundTrip);
                    assertTrue(diff < 0.5 * roundTrip, component + ", tile " + tile + ": mean difference " + diff
                            + " against a round-trip error of " + roundTrip);
                    assertTrue(diff > 0, "tiles that split the latent see less than the whole");
                }
            }
        }
    }

    /** Each tile's activations are freed before the next: only the image is left in the latent's manager. */
    @Test
    void tiledDecodeLeavesOnlyTheImage() {
        try (NDManager weights = NDManager.newBaseManager(); NDManager m = NDManager.newBaseManager()) {
            AutoencoderKL vae = randomVae(SMALL, weights);
            NDArray latent = m.randomNormal(new Shape(1, 4, 48, 40));
            int before = m.getManagedArrays().size();
            NDArray image = vae.decode(latent, VaeTiling.latentTiles(16));
            assertEquals(new Shape(1, 3, 192, 160), image.getShape());
            assertEquals(before + 1, m.getManagedArrays().size(), "arrays left besides the image");
            int afterTiled = m.getManagedArrays().size();
            vae.decode(latent);
            assertEquals(afterTiled + 1, m.getManagedArrays().size(), "the whole decode frees its stages too");
        }
    }

    private static VaeConfig light() {
        return SMALL.withDecoder(SMALL.decoder().withBlockOutChannels(List.of(8, 16, 16)).withNormNumGroups(4)
                .withMidBlockAttention(false).withLayersPerBlock(0));
    }

    private static AutoencoderKL randomVae(VaeConfig config, NDManager weights) {
        AutoencoderKL vae = new AutoencoderKL(config);
        StateDicts.initRandom(vae, weights, 5);
        return vae;
    }
}
