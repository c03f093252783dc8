package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.memory.InsufficientMemoryException;
import dev.mdx.memory.MemoryEstimate;
import dev.mdx.memory.MemoryEstimator;
import dev.mdx.memory.MemoryLimit;
import dev.mdx.testing.TestModels;
import dev.mdx.vae.VaeTiling;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A request whose peak memory would not fit the machine is refused when it is planned, before anything is
 * allocated, with the estimate and the limit; one whose decode alone would not fit decodes in tiles.
 */
class MemoryBoundTest {
    private static MicroPipelineFixture fixture;

    @BeforeAll
    static void load() throws Exception {
        fixture = new MicroPipelineFixture("mdx-memory", TestModels::microPipeline);
    }

    @AfterAll
    static void close() throws Exception {
        fixture.close();
    }

    @AfterEach
    void clearLimit() {
        System.clearProperty(MemoryLimit.PROPERTY);
    }

    private static GenerationRequest.Builder request(int size) {
        // unguided: one UNet example per step, as the estimate below assumes
        return fixture.pipeline.newRequest().prompt("a fox").steps(1).cfgScale(1).size(size, size);
    }

    @Test
    void absurdSizesAreRefusedAtOnceWithTheEstimateAndTheLimit() {
        long start = System.nanoTime();
        InsufficientMemoryException e = assertThrows(InsufficientMemoryException.class,
                () -> fixture.pipeline.plan(request(100_000).build()));
        assertTrue((System.nanoTime() - start) / 1e9 < 5, "refused without running anything");
        assertTrue(e.getMessage().startsWith("a 100000x100000 image needs about "), e.getMessage());
        assertTrue(e.getMessage().contains("this machine can give " + MemoryEstimate.format(e.limit().bytes())),
                e.getMessage());
    }

    @Test
    void aDecodeThatAloneDoesNotFitIsTiled() {
        int size = 128;
        PipelineConfig c = fixture.pipeline.config();
        MemoryEstimate whole = new MemoryEstimator(c.unet(), c.vae(), c.textEncoder()).estimate(1, size, size,
                VaeTiling.NONE);
        // a limit just under the whole decode's peak, above the denoising phase's
        long limit = whole.total() - 1;
        System.setProperty(MemoryLimit.PROPERTY, Long.toString(limit));
        GenerationPlan plan;
        try {
            plan = fixture.pipeline.plan(request(size).build());
        } catch (InsufficientMemoryException e) {
            throw new AssertionError("tiling should fit: " + e.getMessage());
        }
        assertTrue(plan.vaeTiling().enabled(), "tiled");
        assertTrue(plan.notes().stream().anyMatch(n -> n.startsWith("the VAE decodes in tiles of ")), plan.notes()
                .toString());
        assertEquals(size, fixture.pipeline.generate(plan, StepCallback.NONE, null).images().get(0).width());

        GenerationPlan asked = fixture.pipeline.plan(request(size).vaeTilePixels(0).build().toBuilder()
                .vaeTilePixels(null).build());
        assertTrue(asked.vaeTiling().enabled());
        assertThrows(InsufficientMemoryException.class,
                () -> fixture.pipeline.plan(request(size).vaeTilePixels(0).build()),
                "whole decoding, asked for, is refused rather than tiled");
    }

    @Test
    void ordinaryRequestsDecodeWhole() {
        assertFalse(fixture.pipeline.plan(request(fixture.pipeline.defaults().width()).build()).vaeTiling()
                .enabled());
    }
}
