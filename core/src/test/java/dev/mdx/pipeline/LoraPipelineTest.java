package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.lora.KohyaLoraWriter;
import dev.mdx.lora.LoraException;
import dev.mdx.lora.LoraPart;
import dev.mdx.lora.LoraSpec;
import dev.mdx.testing.LoraFixtures;
import dev.mdx.testing.TestModels;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * LoRAs through the front door on the micro pipeline: planned (files read, keys matched, prompt tags resolved and
 * removed), fused for the run, restored exactly for the next request, and shared safely by concurrent calls.
 */
class LoraPipelineTest {
    private static MicroPipelineFixture fixture;
    private static NDManager manager;
    private static Path loraA;
    private static Path loraB;

    @BeforeAll
    static void load() throws Exception {
        fixture = new MicroPipelineFixture("mdx-lora", TestModels::microPipeline);
        manager = NDManager.newBaseManager();
        PipelineConfig config = fixture.pipeline.config();
        UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(config.unet());
        ClipTextModel text = new ClipTextModel(config.textEncoder());
        loraA = write("a.safetensors", unet, text, 1);
        loraB = write("b.safetensors", unet, text, 2);
    }

    private static Path write(String name, UNet2DConditionModel unet, ClipTextModel text, long seed) {
        List<KohyaLoraWriter.Layer> layers = new ArrayList<>(
                LoraFixtures.randomLayers(LoraPart.UNET, unet, p -> true, 2, 0.5f, seed, manager));
        layers.addAll(LoraFixtures.randomLayers(LoraPart.TEXT_ENCODER, text, p -> true, 2, 0.5f, seed + 10, manager));
        return LoraFixtures.write(fixture.dir.resolve(name), layers);
    }

    @AfterAll
    static void close() throws Exception {
        manager.close();
        fixture.close();
    }

    private static GenerationRequest.Builder request() {
        return fixture.pipeline.newRequest().prompt("a fox").steps(2).seed(7);
    }

    private static float[] decoded(GenerationRequest request) {
        return decoded(fixture.pipeline, request);
    }

    /** The decoder's float output of image 0: every bit of the run shows in it. */
    static float[] decoded(TextToImagePipeline pipeline, GenerationRequest request) {
        float[][] out = new float[1][];
        pipeline.generate(request, null, StepCallback.NONE, new PipelineTrace() {
            @Override
            public void decoded(int image, NDArray decoded) {
                out[0] = decoded.toFloatArray();
            }
        });
        return out[0];
    }

    @Test
    void aLoraChangesTheImageAndTheNextRequestGetsTheOriginalWeightsBack() {
        float[] none = decoded(request().build());
        float[] withA = decoded(request().lora(new LoraSpec(loraA, 1)).build());
        assertFalse(Arrays.equals(none, withA), "the LoRA changes the image");
        assertArrayEquals(none, decoded(request().build()), "after the LoRA, bit for bit the image without it");
        assertArrayEquals(none, decoded(request().lora(new LoraSpec(loraA, 0)).build()), "scale 0 is no LoRA");
        assertArrayEquals(withA, decoded(request().lora(new LoraSpec(loraA, 1)).build()), "fused again alike");
    }

    @Test
    void planReportsWhatEachFileAppliesAndTwoLorasAdd() {
        GenerationPlan plan = fixture.pipeline.plan(request().lora(new LoraSpec(loraA, 1))
                .lora(new LoraSpec(loraB, 0.5)).build());
        assertEquals(2, plan.loras().entries().size());
        List<String> notes = plan.notes().stream().filter(n -> n.startsWith("LoRA ")).toList();
        assertEquals(2, notes.size(), plan.notes().toString());
        assertTrue(notes.get(0).startsWith("LoRA a.safetensors at 1: ") && notes.get(0).contains(" tensors applied"),
                notes.get(0));
        assertTrue(notes.get(1).startsWith("LoRA b.safetensors at 0.5: "), notes.get(1));
        assertTrue(plan.parameters().infotext(0)
                .endsWith(", Model: micro, Lora: \"a.safetensors:1, b.safetensors:0.5\""),
                "the PNG text names the files: " + plan.parameters().infotext(0));
        float[] a = decoded(request().lora(new LoraSpec(loraA, 1)).build());
        float[] ab = decoded(request().lora(new LoraSpec(loraA, 1)).lora(new LoraSpec(loraB, 0.5)).build());
        assertFalse(Arrays.equals(a, ab), "the second LoRA adds to the first");
    }

    @Test
    void promptTagsAreResolvedInTheLoraFolderAndTakenOutOfThePrompt() throws Exception {
        Path dir = Files.createDirectories(fixture.model.resolve(TextToImagePipeline.DEFAULT_LORA_DIR));
        Files.copy(loraA, dir.resolve("style.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        GenerationRequest tagged = request().prompt("a fox <lora:style:0.7>").build();
        GenerationPlan plan = fixture.pipeline.plan(tagged);
        assertEquals(0.7, plan.loras().entries().get(0).scale());
        assertEquals("a fox <lora:style:0.7>", plan.parameters().prompt(), "the parameters keep the prompt as given");
        GenerationRequest explicit = request().prompt("a fox ")
                .lora(new LoraSpec(dir.resolve("style.safetensors"), 0.7)).build();
        assertArrayEquals(fixture.pipeline.plan(explicit).prompt().ids().get(0), plan.prompt().ids().get(0),
                "the text encoder does not read the tag");
        assertArrayEquals(decoded(explicit), decoded(tagged));

        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> fixture.pipeline.plan(request().prompt("a fox <lora:nothing>").build()));
        assertEquals("prompt", e.field());
        assertTrue(e.getMessage().contains("no LoRA 'nothing' in") && e.getMessage().contains("style"),
                e.getMessage());
    }

    @Test
    void aFileWithKeysThatMatchNothingFailsUnlessLenient() throws Exception {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        try (var st = dev.mdx.io.SafeTensorsFile.open(loraA)) {
            for (String k : st.tensors().keySet()) {
                tensors.put(k, st.load(k, manager));
            }
        }
        tensors.put("lora_unet_down_blocks_7_resnets_0_conv1.lora_down.weight", manager.zeros(new Shape(2, 8)));
        tensors.put("lora_unet_down_blocks_7_resnets_0_conv1.lora_up.weight", manager.zeros(new Shape(8, 2)));
        Path bad = fixture.dir.resolve("sdxl-ish.safetensors");
        SafeTensorsWriter.write(bad, tensors, Map.of());
        LoraException e = assertThrows(LoraException.class,
                () -> fixture.pipeline.plan(request().lora(new LoraSpec(bad, 1)).build()));
        assertTrue(e.getMessage().contains("2 of its " + tensors.size() + " tensors match nothing")
                && e.getMessage().contains("lora_unet_down_blocks_7_resnets_0_conv1.{lora_down.weight, lora_up.weight}")
                && e.getMessage().contains("nothing was applied"), e.getMessage());

        GenerationRequest lenient = request().lora(new LoraSpec(bad, 1)).loraLenient(true).build();
        GenerationPlan plan = fixture.pipeline.plan(lenient);
        assertTrue(plan.warnings().stream().anyMatch(w -> w.contains("down_blocks_7")), plan.warnings().toString());
        assertTrue(plan.notes().stream().anyMatch(n -> n.contains((tensors.size() - 2) + " of " + tensors.size()
                + " tensors applied")), plan.notes().toString());
        assertArrayEquals(decoded(request().lora(new LoraSpec(loraA, 1)).build()), decoded(lenient),
                "the matching layers are applied");
    }

    @Test
    void callsWithOneSetShareTheWeightsAndAnotherSetWaitsItsTurn() throws Exception {
        TextToImagePipeline pipeline = fixture.pipeline;
        GenerationRequest a = request().lora(new LoraSpec(loraA, 1)).build();
        GenerationRequest b = request().lora(new LoraSpec(loraB, 1)).build();
        Map<GenerationRequest, byte[]> serial = new LinkedHashMap<>();
        for (GenerationRequest r : List.of(a, b)) {
            serial.put(r, pipeline.generate(r).images().get(0).rgb());
        }
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch firstInStep = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Future<byte[]> first = pool.submit(() -> run(a, "a1", log, firstInStep, releaseFirst));
            assertTrue(firstInStep.await(60, TimeUnit.SECONDS));
            // the same set enters while the first call is still running
            byte[] second = pool.submit(() -> run(a, "a2", log, null, null)).get(60, TimeUnit.SECONDS);
            Future<byte[]> other = pool.submit(() -> run(b, "b", log, null, null));
            awaitWaiting(pipeline, 1);
            // a later call with the first set queues behind the other set instead of overtaking it
            Future<byte[]> late = pool.submit(() -> run(a, "a3", log, null, null));
            awaitWaiting(pipeline, 2);
            assertFalse(log.contains("b"), "the other set waits while the first runs: " + log);
            releaseFirst.countDown();
            assertArrayEquals(serial.get(a), first.get(60, TimeUnit.SECONDS));
            assertArrayEquals(serial.get(a), second);
            assertArrayEquals(serial.get(b), other.get(60, TimeUnit.SECONDS));
            assertArrayEquals(serial.get(a), late.get(60, TimeUnit.SECONDS));
            assertEquals(List.of("a1", "a2", "b", "a3"), log, "order of first steps");
        } finally {
            releaseFirst.countDown();
            pool.shutdownNow();
        }
    }

    /** Generates, logging the name at the first step, optionally holding there until released. */
    private static byte[] run(GenerationRequest r, String name, List<String> log, CountDownLatch inStep,
            CountDownLatch release) throws InterruptedException {
        return fixture.pipeline.generate(r, e -> {
            if (e.step() == 0) {
                log.add(name);
                if (inStep != null) {
                    inStep.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException x) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }).images().get(0).rgb();
    }

    private static void awaitWaiting(TextToImagePipeline pipeline, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (pipeline.loraWeights().waiting() < n) {
            assertTrue(System.nanoTime() < deadline, "no call waited");
            Thread.sleep(5);
        }
    }
}
