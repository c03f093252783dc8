package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.testing.TestModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Images reach the caller as each is decoded, so a batch stopped after k images has delivered k, and a long batch
 * does not hold them all.
 */
class ImageDeliveryTest {
    private static MicroPipelineFixture fixture;

    @BeforeAll
    static void load() throws Exception {
        fixture = new MicroPipelineFixture("mdx-delivery", TestModels::microPipeline);
    }

    @AfterAll
    static void close() throws Exception {
        fixture.close();
    }

    @Test
    void eachImageIsDeliveredBeforeTheNextStarts() {
        TextToImagePipeline pipeline = fixture.pipeline;
        GenerationPlan plan = pipeline.plan(pipeline.newRequest().prompt("a fox").steps(2).seed(7).batchCount(3)
                .build());
        List<String> order = new ArrayList<>();
        List<RgbImage> delivered = new ArrayList<>();
        GenerationResult result = pipeline.generate(plan, e -> order.add("step " + e.imageIndex()),
                (k, image, used) -> {
                    order.add("image " + k + " seed " + used.seedOf(k));
                    delivered.add(image);
                });
        assertEquals(List.of("step 0", "step 0", "image 0 seed 7", "step 1", "step 1", "image 1 seed 8", "step 2",
                "step 2", "image 2 seed 9"), order);
        assertEquals(List.of(), result.images(), "delivered images are not also kept");
        GenerationResult kept = pipeline.generate(pipeline.newRequest().prompt("a fox").steps(2).seed(7)
                .batchCount(3).build());
        for (int k = 0; k < 3; k++) {
            assertArrayEquals(kept.images().get(k).rgb(), delivered.get(k).rgb(), "image " + k);
        }
    }

    @Test
    void aCancelledBatchHasDeliveredTheImagesFinishedBeforeIt() {
        TextToImagePipeline pipeline = fixture.pipeline;
        GenerationPlan plan = pipeline.plan(pipeline.newRequest().prompt("a fox").steps(2).seed(1).batchCount(3)
                .build());
        List<Integer> delivered = new ArrayList<>();
        int before = pipeline.managedArrayCount();
        GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                () -> pipeline.generate(plan, ev -> {
                    if (ev.imageIndex() == 2) {
                        ev.cancel();
                    }
                }, (k, image, used) -> delivered.add(k)));
        assertEquals(List.of(0, 1), delivered);
        assertEquals(2, e.imageIndex());
        assertTrue(e.completedImages().isEmpty(), "they went to the callback");
        assertEquals(before, pipeline.managedArrayCount());
    }
}
