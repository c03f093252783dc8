package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.bench.ResidentMemory;
import dev.mdx.io.BundledModels;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.testing.ImageDiff;
import dev.mdx.testing.TestModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dynamic batching: plans run together give each image what it gets alone (up to the last bits of batched float
 * sums), keep their own seeds, samplers and callbacks, fail and cancel one by one, and leave no native memory behind.
 */
class BatchedGenerationTest {
    /**
     * Largest 8-bit channel difference allowed between an image generated in a batch and alone. Measured: 0 or 1 on
     * the micro model (random weights amplify rounding) and 0 or 1 on the emoji student; a wrong seed, prompt or
     * sampler state moves channels by tens.
     */
    private static final int TOLERANCE = 2;

    private static MicroPipelineFixture fixture;
    private static TextToImagePipeline pipeline;

    @BeforeAll
    static void load() throws Exception {
        fixture = new MicroPipelineFixture("mdx-batched", TestModels::microPipeline);
        pipeline = fixture.pipeline;
    }

    @AfterAll
    static void close() throws Exception {
        fixture.close();
    }

    private static GenerationRequest.Builder request() {
        return pipeline.newRequest().prompt("a red fox").steps(3);
    }

    private static BatchedGeneration.Member member(GenerationPlan plan) {
        return new BatchedGeneration.Member(plan, StepCallback.NONE, null);
    }

    /** Runs the plans together and checks every image against the same plan run alone; returns the largest gap. */
    private static int assertBatchedMatchesAlone(TextToImagePipeline p, List<GenerationPlan> plans) {
        List<BatchedGeneration.Outcome> outcomes = p.generateTogether(plans.stream().map(
                BatchedGenerationTest::member).toList());
        assertEquals(plans.size(), outcomes.size());
        int worst = 0;
        for (int m = 0; m < plans.size(); m++) {
            BatchedGeneration.Outcome o = outcomes.get(m);
            assertTrue(o.succeeded(), () -> "member failed: " + o.failure());
            GenerationResult alone = p.generate(plans.get(m), StepCallback.NONE, null);
            assertEquals(alone.images().size(), o.result().images().size());
            assertEquals(alone.parameters(), o.result().parameters());
            for (int k = 0; k < alone.images().size(); k++) {
                int d = ImageDiff.max(alone.images().get(k), o.result().images().get(k));
                int member = m;
                int image = k;
                assertTrue(d <= TOLERANCE, () -> "member " + member + " image " + image + " differs by " + d);
                worst = Math.max(worst, d);
            }
        }
        return worst;
    }

    @Test
    void eachImageMatchesItsGenerationAlone() {
        // guided: different prompts, negative prompts, scales and seeds, and a member with two images
        List<GenerationPlan> guided = List.of(
                pipeline.plan(request().prompt("a red fox").negativePrompt("blurry").seed(1).build()),
                pipeline.plan(request().prompt("a blue car").cfgScale(4.0).seed(2).batchCount(2).build()),
                pipeline.plan(request().prompt("").negativePrompt("dark").cfgScale(9.0).seed(3).build()));
        int worstGuided = assertBatchedMatchesAlone(pipeline, guided);
        // an ancestral sampler draws noise at every step: each image from its own seed's source
        List<GenerationPlan> ancestral = List.of(
                pipeline.plan(request().sampler(SamplerKind.EULER_ANCESTRAL).cfgScale(1.0).seed(5).build()),
                pipeline.plan(request().sampler(SamplerKind.EULER_ANCESTRAL).cfgScale(1.0).prompt("a cat").seed(6)
                        .batchCount(2).build()));
        int worstAncestral = assertBatchedMatchesAlone(pipeline, ancestral);
        System.out.printf("batched vs alone, largest 8-bit channel difference: guided %d, euler a %d%n",
                worstGuided, worstAncestral);
    }

    @Test
    void aModelThatReadsTheScaleBatchesPerImageScales() throws Exception {
        try (MicroPipelineFixture embedded = new MicroPipelineFixture("mdx-batched-w",
                TestModels::microGuidanceInputPipeline)) {
            TextToImagePipeline p = embedded.pipeline;
            List<GenerationPlan> plans = List.of(
                    p.plan(p.newRequest().prompt("a fox").steps(2).cfgScale(3.0).seed(1).build()),
                    p.plan(p.newRequest().prompt("a fox").steps(2).cfgScale(8.0).seed(1).build()));
            assertEquals(dev.mdx.unet.Guidance.EMBEDDED, plans.get(0).guidance());
            assertBatchedMatchesAlone(p, plans);
        }
    }

    @Test
    void theBundledOneStepStudentBatchesLikeAlone() {
        try (TextToImagePipeline emoji = TextToImagePipeline.builder(BundledModels.resolve("emoji"))
                .loadWeightsNow(false).build()) {
            List<GenerationPlan> plans = new ArrayList<>();
            String[] prompts = {"a red apple", "a dog", "a green tree", "a smiling sun"};
            for (int i = 0; i < prompts.length; i++) {
                plans.add(emoji.plan(emoji.newRequest().prompt(prompts[i]).steps(1).seed(40 + i).build()));
            }
            assertTrue(plans.get(0).student().isPresent(), "one step runs the UFOGen student");
            int worst = assertBatchedMatchesAlone(emoji, plans);
            System.out.printf("emoji one-step student, batch of 4 vs alone: largest channel difference %d%n", worst);
        }
    }

    @Test
    void onlyPlansThatShareModelSizeTimestepsAndGuidanceBatch() {
        GenerationPlan a = pipeline.plan(request().seed(1).build());
        assertEquals(BatchedGeneration.batchKey(a), BatchedGeneration.batchKey(
                pipeline.plan(request().prompt("other").negativePrompt("x").cfgScale(3.0).seed(9).batchCount(3)
                        .build())), "prompt, scale, seed and count may differ");
        for (GenerationRequest other : List.of(request().steps(4).build(), request().size(24, 16).build(),
                request().cfgScale(1.0).build(), request().sampler(SamplerKind.EULER).build())) {
            GenerationPlan b = pipeline.plan(other);
            assertNotEquals(BatchedGeneration.batchKey(a), BatchedGeneration.batchKey(b), other.toString());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> pipeline.generateTogether(List.of(member(a), member(b))));
            assertTrue(e.getMessage().contains("must share"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> pipeline.generateTogether(List.of()));
    }

    @Test
    void membersGetTheirOwnStepsAndImagesAndFailAlone() {
        GenerationPlan one = pipeline.plan(request().prompt("a fox").seed(11).batchCount(2).build());
        GenerationPlan two = pipeline.plan(request().prompt("a cat").seed(12).build());
        GenerationPlan cancelled = pipeline.plan(request().prompt("a dog").seed(13).build());
        GenerationPlan broken = pipeline.plan(request().prompt("a cow").seed(14).build());
        pipeline.generate(one, StepCallback.NONE, null);
        int arrays = pipeline.managedArrayCount();

        List<String> oneSteps = new ArrayList<>();
        List<String> oneImages = new ArrayList<>();
        List<Integer> cancelledSteps = new ArrayList<>();
        RuntimeException boom = new IllegalStateException("the caller's callback failed");
        List<BatchedGeneration.Outcome> outcomes = pipeline.generateTogether(List.of(
                new BatchedGeneration.Member(one, e -> {
                    oneSteps.add(e.imageIndex() + ":" + e.step() + " seed " + e.seed());
                    assertEquals(TestModels.MICRO_SIZE, e.previewDecoded().width());
                }, (k, image, used) -> oneImages.add(k + " seed " + used.seedOf(k))),
                member(two),
                new BatchedGeneration.Member(cancelled, e -> {
                    cancelledSteps.add(e.step());
                    if (e.step() == 1) {
                        e.cancel();
                    }
                }, null),
                new BatchedGeneration.Member(broken, e -> {
                    throw boom;
                }, null)));

        assertEquals(List.of("0:0 seed 11", "1:0 seed 12", "0:1 seed 11", "1:1 seed 12", "0:2 seed 11",
                "1:2 seed 12"), oneSteps, "both images of the member step together");
        assertEquals(List.of("0 seed 11", "1 seed 12"), oneImages);
        assertTrue(outcomes.get(0).succeeded());
        assertTrue(outcomes.get(0).result().images().isEmpty(), "delivered images are not also kept");
        assertTrue(outcomes.get(1).succeeded());
        assertTrue(ImageDiff.max(outcomes.get(1).result().images().get(0),
                pipeline.generate(two, StepCallback.NONE, null).images().get(0)) <= TOLERANCE,
                "the others finish as if alone");
        assertEquals(List.of(0, 1), cancelledSteps, "no steps after the cancel");
        GenerationCancelledException c = assertInstanceOf(GenerationCancelledException.class,
                outcomes.get(2).failure());
        assertEquals(1, c.step());
        assertSame(boom, outcomes.get(3).failure(), "a callback's exception is the member's outcome as it is");
        assertEquals(arrays, pipeline.managedArrayCount(), "arrays left behind");
    }

    @Test
    void manyBatchedRunsKeepMemoryFlat() {
        List<BatchedGeneration.Member> members = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            members.add(member(pipeline.plan(request().steps(1).prompt("a fox " + "x".repeat(i)).seed(i).build())));
        }
        for (int i = 0; i < 5; i++) {
            pipeline.generateTogether(members);
        }
        int arrays = pipeline.managedArrayCount();
        int runs = 600;
        int window = 50;
        List<Long> rss = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            // batches of 1 to 6, now and then with a member cancelled
            List<BatchedGeneration.Member> batch = new ArrayList<>(members.subList(0, 1 + i % members.size()));
            if (i % 7 == 0) {
                batch.set(0, new BatchedGeneration.Member(batch.get(0).plan(), StepEvent::cancel, null));
            }
            pipeline.generateTogether(batch);
            assertEquals(arrays, pipeline.managedArrayCount(), "arrays after batched run " + i);
            if (i % window == window - 1) {
                System.gc(); // lets the collector give back heap it grew, which RSS counts too
                rss.add(ResidentMemory.currentBytes());
            }
        }
        // the allocators' pools swing by tens of MB from one sample to the next (measured: up to 78 MB over 1500
        // runs, with no trend); a leak lifts the floor, so compare the lowest sample of the first and last thirds
        int third = rss.size() / 3;
        long early = rss.subList(0, third).stream().min(Long::compare).orElseThrow();
        long late = rss.subList(rss.size() - third, rss.size()).stream().min(Long::compare).orElseThrow();
        System.out.printf("%d batched runs: lowest resident size %.1f MB in the first third, %.1f MB in the last%n",
                runs, early / 1e6, late / 1e6);
        assertTrue(late - early < 32_000_000L, "resident size floor rose by " + (late - early) / 1e6 + " MB");
    }
}
