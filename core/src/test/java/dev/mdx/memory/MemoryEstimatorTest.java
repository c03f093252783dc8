package dev.mdx.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.models.ArchitecturePresets;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeTiling;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The estimator's arithmetic and the refusal it drives; docs/BENCHMARKS.md "Memory" checks it against measurement. */
class MemoryEstimatorTest {
    private static final List<String> PRESETS = List.of("sd15", "mobilediffusion", "mobilediffusion-tiny");
    private static final long GB = 1_000_000_000L;

    private static MemoryEstimator preset(String name) {
        return new MemoryEstimator(ArchitecturePresets.unet(name), ArchitecturePresets.vae(name), ArchitecturePresets.textEncoder(name));
    }

    @Test
    void weightsAreTheModulesParameters() {
        for (String name : PRESETS) {
            long params = UNet2DConditionModel.fromConfig(ArchitecturePresets.unet(name)).parameterCount()
                    + new ClipTextModel(ArchitecturePresets.textEncoder(name)).parameterCount()
                    + new AutoencoderKL(ArchitecturePresets.vae(name)).parameterCount();
            assertEquals(4 * params, preset(name).weightBytes(), name);
            // a bf16 run keeps a 2-byte copy of the weights beside the fp32 ones
            assertEquals(6 * params, preset(name).withBf16WeightCopies().weightBytes(), name);
            assertEquals(6 * params, preset(name).forPromptChunks(2).withBf16WeightCopies().releasingBetweenPhases()
                    .weightBytes(), name + ": kept through the other variants");
        }
    }

    @Test
    void growsWithSizeAndBatch() {
        for (String name : PRESETS) {
            MemoryEstimator est = preset(name);
            int step = 8 * ArchitecturePresets.vae(name).downsampleFactor();
            MemoryEstimate previous = null;
            for (int side = step; side <= 2048; side += step) {
                MemoryEstimate one = est.estimate(1, side, side, VaeTiling.NONE);
                MemoryEstimate two = est.estimate(2, side, side, VaeTiling.NONE);
                MemoryEstimate wide = est.estimate(1, side, side + step, VaeTiling.NONE);
                String at = name + " at " + side;
                assertTrue(two.unetActivations() > one.unetActivations(), at + ": batch 2 holds more than batch 1");
                assertTrue(two.total() >= one.total(), at);
                assertTrue(wide.unetActivations() > one.unetActivations() && wide.vaeDecode() > one.vaeDecode(), at);
                if (previous != null) {
                    assertTrue(one.unetActivations() > previous.unetActivations(), at + ": UNet");
                    assertTrue(one.vaeDecode() > previous.vaeDecode(), at + ": decode");
                    assertTrue(one.total() >= previous.total(), at + ": total");
                }
                previous = one;
            }
        }
    }

    @Test
    void tiledDecodeIsBoundedByTheTile() {
        MemoryEstimator est = preset("sd15");
        VaeTiling tiles = VaeTiling.latentTiles(64);
        MemoryEstimate whole512 = est.estimate(1, 512, 512, VaeTiling.NONE);
        assertEquals(whole512.vaeDecode(), est.estimate(1, 512, 512, tiles).vaeDecode(), "one tile is the whole");
        for (int side : new int[] {1024, 2048, 4096}) {
            MemoryEstimate whole = est.estimate(1, side, side, VaeTiling.NONE);
            MemoryEstimate tiled = est.estimate(1, side, side, tiles);
            assertTrue(tiled.vaeDecode() < whole.vaeDecode() / 2, side + ": " + tiled + " against " + whole);
            assertEquals(whole.unetActivations(), tiled.unetActivations(), "tiling changes only the decode");
            // beyond one tile's decode, only the image's own bytes (about 100 per pixel) grow with the size
            assertTrue(tiled.vaeDecode() < whole512.vaeDecode() + 100L * side * side, side + ": " + tiled);
        }
    }

    @Test
    void aRequestThatFitsPassesWithItsEstimate() {
        MemoryEstimate e = preset("mobilediffusion-tiny").check(2, 256, 256, VaeTiling.NONE,
                new MemoryLimit(2 * GB, "test"));
        assertEquals(256, e.width());
        assertTrue(e.total() < 2 * GB && e.total() > MemoryEstimator.RUNTIME_BYTES, e.toString());
    }

    /**
     * The issue's -W 100000 used 10 GB before failing: refusing it must take no time, allocate nothing beyond a few
     * small objects (the estimator never touches the engine) and overflow nowhere.
     */
    @Test
    void absurdSizesAreRefusedInstantlyWithoutAllocating() {
        MemoryEstimator est = preset("sd15");
        MemoryLimit limit = new MemoryLimit(24 * GB, "test limit");
        for (int[] size : new int[][] {{100_000, 100_000}, {100_000, 512}, {Integer.MAX_VALUE, Integer.MAX_VALUE}}) {
            long heapBefore = allocatedBytes();
            long start = System.nanoTime();
            InsufficientMemoryException e = assertThrows(InsufficientMemoryException.class,
                    () -> est.check(2, size[1], size[0], VaeTiling.NONE, limit));
            double ms = (System.nanoTime() - start) / 1e6;
            long heap = allocatedBytes() - heapBefore;
            String at = size[0] + "x" + size[1];
            assertTrue(ms < 500, at + ": took " + ms + " ms");
            assertTrue(heap < 20_000_000, at + ": allocated " + heap + " bytes of heap");
            long total = e.estimate().total();
            assertTrue(total > limit.bytes() && total <= Long.MAX_VALUE, at + ": estimate " + total);
            assertTrue(e.estimate().unetActivations() > 0 && e.estimate().vaeDecode() > 0, at + ": no part overflows");
            String m = e.getMessage();
            assertTrue(m.contains(at) && m.contains(MemoryEstimate.format(total)) && m.contains("24.0 GB")
                    && m.contains("test limit"), m);
        }
    }

    @Test
    void onlyADecodeTooLargeSuggestsTiles() {
        MemoryEstimator est = preset("sd15");
        MemoryEstimate whole = est.estimate(2, 1536, 1536, VaeTiling.NONE);
        assertTrue(whole.decodePhase() > whole.denoisePhase(), whole.toString());
        MemoryLimit limit = new MemoryLimit((whole.denoisePhase() + whole.decodePhase()) / 2, "test");
        InsufficientMemoryException e = assertThrows(InsufficientMemoryException.class,
                () -> est.check(2, 1536, 1536, VaeTiling.NONE, limit));
        assertTrue(e.getMessage().contains("Only the VAE decode is too large: with the VAE decoding in tiles of"), e.getMessage());
        VaeTiling tiles = e.tilingThatFits().orElseThrow();
        assertTrue(tiles.enabled());
        assertTrue(est.check(2, 1536, 1536, tiles, limit).total() <= limit.bytes());
        assertEquals(tiles, est.tilingThatFits(2, 1536, 1536, limit).orElseThrow());
        assertEquals(VaeTiling.NONE, est.tilingThatFits(2, 512, 512, limit).orElseThrow(), "the whole decode fits");
    }

    @Test
    void aUNetTooLargeSuggestsASmallerSizeThatFits() {
        MemoryEstimator est = preset("sd15");
        MemoryEstimate at1024 = est.estimate(2, 1024, 1024, VaeTiling.latentTiles(64));
        MemoryLimit limit = new MemoryLimit(at1024.denoisePhase() + 1, "test");
        InsufficientMemoryException e = assertThrows(InsufficientMemoryException.class,
                () -> est.check(2, 1536, 2048, VaeTiling.NONE, limit));
        assertTrue(e.tilingThatFits().isEmpty(), "the UNet itself does not fit");
        Matcher m = Pattern.compile("The largest image of this shape that fits is about (\\d+)x(\\d+)")
                .matcher(e.getMessage());
        assertTrue(m.find(), e.getMessage());
        int width = Integer.parseInt(m.group(1));
        int height = Integer.parseInt(m.group(2));
        assertTrue(width < 2048 && height < 1536 && width > height, width + "x" + height);
        VaeTiling tiles = est.tilingThatFits(2, height, width, limit).orElseThrow();
        assertTrue(est.check(2, height, width, tiles, limit).total() <= limit.bytes());
        assertTrue(est.tilingThatFits(2, height + 64, width + 64, limit).isEmpty(), "the largest");

        InsufficientMemoryException none = assertThrows(InsufficientMemoryException.class,
                () -> est.check(1, 512, 512, VaeTiling.NONE, new MemoryLimit(est.weightBytes(), "test")));
        assertTrue(none.getMessage().contains("Even a 64x64 image does not fit: the runtime and the weights alone"),
                none.getMessage());
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
