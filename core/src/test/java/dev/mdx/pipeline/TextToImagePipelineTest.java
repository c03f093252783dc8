package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.mdx.bench.ResidentMemory;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.tensor.Precision;
import dev.mdx.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pipeline's behaviour on a micro random-weight model: reproducible seeds (alone and within a batch), guidance
 * on and off, callbacks, cancellation, warnings, request validation, concurrency and flat memory over hundreds of
 * generations. Numerical parity with diffusers is {@link TextToImagePipelineGoldenTest}'s job.
 */
class TextToImagePipelineTest {
    private static MicroPipelineFixture fixture;
    private static Path dir;
    private static TextToImagePipeline pipeline;

    @BeforeAll
    static void load() throws Exception {
        fixture = new MicroPipelineFixture("mdx-micro", TestModels::microPipeline);
        dir = fixture.dir;
        pipeline = fixture.pipeline;
    }

    @AfterAll
    static void close() throws Exception {
        fixture.close();
    }

    private static GenerationRequest.Builder request() {
        return pipeline.newRequest().prompt("a red fox").negativePrompt("blurry").steps(3);
    }

    private static byte[] pixels(GenerationRequest r) {
        return pipeline.generate(r).images().get(0).rgb();
    }

    /**
     * A request that names no precision runs the machine's default: bf16 where the CPU has it, unless
     * -Dmdx.precision says otherwise (the test JVM sets fp32 for the golden tests; cleared here).
     */
    @Test
    void requestsWithoutPrecisionRunTheMachineDefault() {
        String before = System.getProperty(Precision.DEFAULT_PROPERTY);
        try {
            System.clearProperty(Precision.DEFAULT_PROPERTY);
            Precision machine = Precision.resolve(Precision.BF16);
            GenerationResult unnamed = pipeline.generate(request().seed(7).build());
            assertEquals(machine, unnamed.parameters().precision());
            assertArrayEquals(pixels(request().seed(7).precision(machine).build()), unnamed.images().get(0).rgb(),
                    "the default is that precision, not another path");
            System.setProperty(Precision.DEFAULT_PROPERTY, "fp32");
            GenerationResult pinned = pipeline.generate(request().seed(7).build());
            assertEquals(Precision.FP32, pinned.parameters().precision());
            assertArrayEquals(pixels(request().seed(7).precision(Precision.FP32).build()), pinned.images().get(0).rgb());
            System.setProperty(Precision.DEFAULT_PROPERTY, "fp8");
            dev.mdx.MdxException bad = assertThrows(dev.mdx.MdxException.class,
                    () -> pipeline.generate(request().seed(7).build()));
            assertTrue(bad.getMessage().contains("-Dmdx.precision") && bad.getMessage().contains("fp8"),
                    bad.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(Precision.DEFAULT_PROPERTY);
            } else {
                System.setProperty(Precision.DEFAULT_PROPERTY, before);
            }
        }
    }

    @Test
    void defaultsComeFromTheModelFolder() {
        GenerationDefaults d = pipeline.defaults();
        assertEquals(TestModels.MICRO_SIZE, d.width(), "unet sample_size x VAE factor");
        assertEquals(TestModels.MICRO_SIZE, d.height());
        assertEquals(SamplerKind.DDIM, d.sampler(), "the folder's DDIMScheduler");
        assertEquals(GenerationDefaults.DIFFUSERS_STEPS, d.steps());
        assertEquals(GenerationDefaults.DIFFUSERS_CFG_SCALE, d.cfgScale());
        assertEquals(TestModels.MICRO_TEXT_LENGTH, pipeline.textLength());
        GenerationResult r = pipeline.generate(request().seed(5).build());
        RgbImage image = r.images().get(0);
        assertEquals(TestModels.MICRO_SIZE, image.width());
        assertEquals(TestModels.MICRO_SIZE, image.height());
        assertEquals(3, r.timings().unetStepMs().size());
        assertTrue(r.timings().totalMs() >= r.timings().unetTotalMs() + r.timings().decodeMs());
    }

    @Test
    void sameSeedSameImageForEverySampler() {
        for (SamplerKind kind : SamplerKind.values()) {
            GenerationRequest r = request().sampler(kind).seed(7).eta(kind == SamplerKind.DDIM ? 0.5 : 0).build();
            byte[] first = pixels(r);
            assertArrayEquals(first, pixels(r), kind + ": same seed");
            assertFalse(Arrays.equals(first, pixels(request().sampler(kind).seed(8).build())), kind + ": other seed");
        }
    }

    @Test
    void imageKOfABatchIsReproducibleAlone() {
        // euler_a draws noise at every step: that noise must come from image k's seed too
        GenerationResult batch = pipeline.generate(request().sampler(SamplerKind.EULER_ANCESTRAL).seed(100)
                .batchCount(3).build());
        assertEquals(3, batch.images().size());
        for (int k = 0; k < 3; k++) {
            assertEquals(100 + k, batch.parameters().seedOf(k));
            assertTrue(batch.infotext(k).contains("Seed: " + (100 + k)), batch.infotext(k));
            byte[] alone = pixels(request().sampler(SamplerKind.EULER_ANCESTRAL).seed(100 + k).build());
            assertArrayEquals(alone, batch.images().get(k).rgb(), "image " + k);
        }
        assertFalse(Arrays.equals(batch.images().get(0).rgb(), batch.images().get(1).rgb()));
        assertEquals(9, batch.timings().unetStepMs().size());
    }

    @Test
    void aRandomSeedIsReportedAndReproduces() {
        GenerationResult r = pipeline.generate(request().seed(-1).build());
        long seed = r.parameters().seed();
        assertTrue(seed >= 0 && seed < (1L << 32), "seed " + seed);
        assertArrayEquals(r.images().get(0).rgb(), pixels(request().seed(seed).build()));
    }

    @Test
    void guidanceOneRunsTheUNetOnceOnThePromptAlone() {
        List<Long> batchSizes = new ArrayList<>();
        PipelineTrace trace = new PipelineTrace() {
            @Override
            public void unetInput(int image, int step, NDArray input) {
                batchSizes.add(input.getShape().get(0));
            }

            @Override
            public void noisePrediction(int image, int step, NDArray uncond, NDArray text, NDArray guided) {
                assertEquals(uncond == null, batchSizes.get(batchSizes.size() - 1) == 1);
            }
        };
        GenerationResult off = pipeline.generate(request().cfgScale(1).seed(3).build(), null, StepCallback.NONE, trace);
        assertEquals(List.of(1L, 1L, 1L), batchSizes);
        assertTrue(off.warnings().stream().anyMatch(w -> w.contains("negative prompt is ignored")), off.warnings()
                .toString());
        batchSizes.clear();
        GenerationResult on = pipeline.generate(request().cfgScale(7.5).seed(3).build(), null, StepCallback.NONE,
                trace);
        assertEquals(List.of(2L, 2L, 2L), batchSizes);
        assertEquals(List.of(), on.warnings());
        assertFalse(Arrays.equals(off.images().get(0).rgb(), on.images().get(0).rgb()));
        assertArrayEquals(off.images().get(0).rgb(), pixels(request().cfgScale(0.5).seed(3).build()),
                "every scale <= 1 means no guidance");
    }

    @Test
    void aLongPromptIsReadInChunksNotCut() {
        // 14 letters + "zz": one token per letter, the text encoder reads 14 between start and end, so 2 chunks
        GenerationRequest longPrompt = request().prompt("abcdefghijklmn zz").seed(1).build();
        GenerationResult r = pipeline.generate(longPrompt);
        assertEquals(List.of(), r.warnings(), "nothing is cut");
        assertEquals(List.of(), pipeline.check(longPrompt));
        assertTrue(pipeline.plan(longPrompt).notes().contains("the prompt is 16 tokens long: encoded in 2 chunks of 14"),
                pipeline.plan(longPrompt).notes().toString());
        assertEquals(1, r.images().size());
        assertFalse(Arrays.equals(r.images().get(0).rgb(),
                pixels(request().prompt("abcdefghijklmn yy").seed(1).build())), "the words past 14 tokens count");
    }

    @Test
    void callbackSeesEveryStepWithPreviews() {
        List<String> seen = new ArrayList<>();
        StepEvent[] last = new StepEvent[1];
        GenerationResult r = pipeline.generate(request().batchCount(2).seed(20).build(), e -> {
            seen.add(e.imageIndex() + ":" + e.step() + "/" + e.totalSteps() + "@" + (int) e.timestep()
                    + " #" + e.completedOfBatch() + " seed " + e.seed());
            RgbImage cheap = e.previewLatents();
            assertEquals(TestModels.MICRO_SIZE / 2, cheap.width());
            RgbImage full = e.previewDecoded();
            assertEquals(TestModels.MICRO_SIZE, full.width());
            last[0] = e;
        });
        float[] t = pipeline.config().sampler(SamplerKind.DDIM, 0).plan(3).timesteps();
        List<String> expected = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < 3; i++) {
                expected.add(k + ":" + i + "/3@" + (int) t[i] + " #" + (k * 3 + i + 1) + " seed " + (20 + k));
            }
        }
        assertEquals(expected, seen);
        assertEquals(2, r.images().size());
        assertThrows(IllegalStateException.class, () -> last[0].previewLatents(), "previews end with the callback");
    }

    @Test
    void cancellingStopsAfterTheStepAndFreesEverything() {
        pipeline.generate(request().seed(1).build());
        int before = pipeline.managedArrayCount();
        GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                () -> pipeline.generate(request().batchCount(3).seed(1).build(), ev -> {
                    if (ev.imageIndex() == 1 && ev.step() == 1) {
                        ev.cancel();
                    }
                }));
        assertEquals(1, e.completedImages().size(), "image 0 was finished");
        assertEquals(1, e.imageIndex());
        assertEquals(1, e.step());
        assertTrue(e.getMessage().contains("step 2/3 of image 2/3"), e.getMessage());
        assertArrayEquals(pixels(request().seed(1).build()), e.completedImages().get(0).rgb());
        assertEquals(before, pipeline.managedArrayCount(), "arrays left behind by the cancelled run");

        RuntimeException boom = new RuntimeException("callback failed");
        assertEquals(boom, assertThrows(RuntimeException.class, () -> pipeline.generate(request().seed(1).build(),
                ev -> {
                    throw boom;
                })));
        assertEquals(before, pipeline.managedArrayCount(), "arrays left behind by the failed run");
    }

    @Test
    void requestsAreValidatedByField() {
        assertField("steps", () -> request().steps(0).build());
        assertField("cfgScale", () -> request().cfgScale(-1).build());
        assertField("cfgScale", () -> request().cfgScale(Double.NaN).build());
        assertField("batchCount", () -> request().batchCount(0).build());
        assertField("batchCount", () -> request().batchCount(-2).build());
        assertField("width", () -> request().width(0).build());
        assertField("eta", () -> request().eta(-0.1).build());
        assertField("prompt", () -> request().prompt(null).build());
        InvalidRequestException odd = assertField("width", () -> pipeline.generate(request().width(17).build()));
        assertTrue(odd.getMessage().contains("multiple of 2"), odd.getMessage());
        assertField("height", () -> pipeline.generate(request().height(15).build()));
        InvalidRequestException many = assertField("steps", () -> pipeline.generate(request().steps(1001).build()));
        assertTrue(many.getMessage().contains("1001"), many.getMessage());
        assertField("steps", () -> pipeline.generate(request().sampler(SamplerKind.LCM).steps(51).build()));
        // a size other than the default is fine when it is a multiple of the factor
        assertEquals(10, pipeline.generate(request().size(10, 6).steps(1).build()).images().get(0).width());
    }

    private static InvalidRequestException assertField(String field, Runnable r) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, r::run);
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().startsWith(field + " "), e.getMessage());
        return e;
    }

    @Test
    void etaWithAnotherSamplerIsReportedAsIgnored() {
        GenerationResult r = pipeline.generate(request().sampler(SamplerKind.EULER).eta(0.3).seed(2).build());
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("eta only affects ddim")), r.warnings().toString());
        assertFalse(r.infotext(0).contains("Eta"), r.infotext(0));
        GenerationResult ddim = pipeline.generate(request().eta(0.3).seed(2).build());
        assertTrue(ddim.infotext(0).endsWith(", Eta: 0.3"), ddim.infotext(0));
    }

    @Test
    void concurrentCallsGiveWhatTheyGiveAlone() throws Exception {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            requests.add(request().seed(50 + i).sampler(i % 2 == 0 ? SamplerKind.DPMPP_2M : SamplerKind.EULER_ANCESTRAL)
                    .cfgScale(i % 3 == 0 ? 1 : 5).build());
        }
        List<byte[]> expected = new ArrayList<>();
        for (GenerationRequest r : requests) {
            expected.add(pixels(r));
        }
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<byte[]>> futures = new ArrayList<>();
            for (GenerationRequest r : requests) {
                futures.add(pool.submit(() -> pixels(r)));
            }
            for (int i = 0; i < requests.size(); i++) {
                assertArrayEquals(expected.get(i), futures.get(i).get(), "request " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void manyGenerationsKeepAFlatArrayCount() {
        GenerationRequest tiny = request().steps(1).build();
        for (int i = 0; i < 5; i++) {
            pipeline.generate(tiny);
        }
        int arrays = pipeline.managedArrayCount();
        long rss = ResidentMemory.currentBytes();
        long start = System.nanoTime();
        int runs = 250;
        SamplerKind[] kinds = SamplerKind.values();
        for (int i = 0; i < runs; i++) {
            // every sampler, guided and not, one or two steps, now and then a batch of two
            pipeline.generate(tiny.toBuilder().sampler(kinds[i % kinds.length]).steps(1 + i % 2)
                    .cfgScale(i % 3 == 0 ? 1 : 7.5).batchCount(i % 10 == 0 ? 2 : 1).build());
            assertEquals(arrays, pipeline.managedArrayCount(), "arrays after generation " + i);
        }
        System.out.printf("%d generations in %.1f s; resident size %+.1f MB (the first runs grow the allocator's"
                + " pools; it stays flat after)%n", runs, (System.nanoTime() - start) / 1e9,
                (ResidentMemory.currentBytes() - rss) / 1e6);
    }

    @Test
    void closedPipelineRefusesWork() throws Exception {
        try (TextToImagePipeline other = TextToImagePipeline.load(dir.resolve("micro"))) {
            other.close();
            assertThrows(IllegalStateException.class, () -> other.generate(request().build()));
        }
    }
}
