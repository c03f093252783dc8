package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.io.BundledModels;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.unet.Guidance;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The library's one door on the bundled emoji model, as a Java caller uses it: the step count picks the student
 * and its defaults, the thread count follows the model's size, and the bytes do not depend on the calling thread.
 */
class FrontDoorTest {
    private static TextToImagePipeline pipeline;

    @BeforeAll
    static void load() {
        pipeline = TextToImagePipeline.builder(BundledModels.resolve("emoji")).loadWeightsNow(false).build();
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    @Test
    void stepCountsPickTheShippedStudentsWithTheirOwnDefaults() {
        GenerationPlan one = pipeline.plan(pipeline.newRequest().prompt("a red apple").steps(1).build());
        assertEquals("ufogen", one.student().orElseThrow().index().name());
        assertEquals(SamplerKind.UFOGEN, one.parameters().sampler());
        assertEquals(1.0, one.parameters().cfgScale(), "the one-step student runs unguided by default");
        assertEquals(Guidance.NONE, one.guidance());
        assertEquals(1, one.totalSteps());

        GenerationPlan eight = pipeline.plan(pipeline.newRequest().prompt("a red apple").steps(8).build());
        assertEquals("distill-8", eight.student().orElseThrow().index().name());
        assertEquals(8, eight.samplingPlan().size());

        GenerationPlan fifty = pipeline.plan(pipeline.newRequest().prompt("a red apple").build());
        assertTrue(fifty.student().isEmpty());
        assertEquals(50, fifty.parameters().steps());
        assertEquals(Guidance.CLASSIFIER_FREE, fifty.guidance());

        GenerationPlan forced = pipeline.plan(pipeline.newRequest().prompt("a red apple").steps(1)
                .useStudent(false).build());
        assertTrue(forced.student().isEmpty(), "useStudent(false) runs the base model");
        assertEquals(SamplerKind.DDIM, forced.parameters().sampler());
    }

    @Test
    void editsRunOnTheStudentsToo() {
        int size = pipeline.defaults().width();
        RgbImage grey = new RgbImage(size, size, new byte[size * size * 3]);
        GenerationPlan one = pipeline.plan(pipeline.newRequest().prompt("a red apple").steps(1).seed(2)
                .edit(ImageEdit.img2img(grey, 0.6)).build());
        assertEquals("ufogen", one.student().orElseThrow().index().name());
        // the one-step student is noised to round(0.6 * 999) and predicts x0 from there
        assertEquals(599f, one.samplingPlan().timestep(0));
        assertEquals(1, one.totalSteps());
        assertEquals(size, pipeline.generate(one, StepCallback.NONE, null).images().get(0).width());

        GenerationPlan eight = pipeline.plan(pipeline.newRequest().prompt("a red apple").steps(8).seed(2)
                .edit(ImageEdit.img2img(grey, 0.5)).build());
        assertEquals("distill-8", eight.student().orElseThrow().index().name());
        assertEquals(4, eight.firstStep(), "the 8-step plan entered at 8 - int(8 * 0.5)");
        assertEquals(4, pipeline.generate(eight, StepCallback.NONE, null).timings().unetStepMs().size());
    }

    @Test
    void smallModelsRunOnOneEngineThread() {
        GenerationPlan plan = pipeline.plan(pipeline.newRequest().prompt("a red apple").build());
        assertEquals(1, plan.threads(), "the 14M-parameter emoji UNet is under "
                + ThreadPolicy.SINGLE_THREAD_GFLOP + " GFLOP per call");
    }

    /**
     * libtorch's thread count is partly per thread, and the 50-step image differs between 1 and 2 threads; a thread
     * that never set it used every core, so the same request differed by 1/255 on some pixels off the main thread.
     */
    @Test
    void sameRequestSameBytesOnAnyThread() throws Exception {
        GenerationRequest request = pipeline.newRequest().prompt("a red apple").seed(3).build();
        EngineThreads.useOnThisThread(1); // as mdx generate's main thread had it
        byte[] here = pipeline.generate(request).images().get(0).rgb();
        EngineThreads.useOnThisThread(EngineThreads.maxThreads()); // as a caller's thread may have it
        assertArrayEquals(here, pipeline.generate(request).images().get(0).rgb(), "whatever the caller had set");
        AtomicReference<Object> there = new AtomicReference<>();
        Thread other = new Thread(() -> {
            try {
                there.set(pipeline.generate(request).images().get(0).rgb());
            } catch (Throwable t) {
                there.set(t);
            }
        }, "not-main");
        other.start();
        other.join();
        if (there.get() instanceof Throwable t) {
            throw new AssertionError(t);
        }
        assertArrayEquals(here, (byte[]) there.get(), "the same request on another thread");
    }
}
