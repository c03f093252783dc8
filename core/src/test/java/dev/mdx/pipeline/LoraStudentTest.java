package dev.mdx.pipeline;

import static dev.mdx.pipeline.LoraPipelineTest.decoded;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.mdx.io.BundledModels;
import dev.mdx.lora.BoundLora;
import dev.mdx.lora.KohyaLoraWriter;
import dev.mdx.lora.LoraPart;
import dev.mdx.lora.LoraSpec;
import dev.mdx.testing.LoraFixtures;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The paper's use (v2, Fig. 1): a LoRA made for the base model applied to the one-step UFOGen student of the bundled
 * emoji model, on its MobileDiffusion layers (shared to_kv, SwiGLU feed-forward, separable convs) and on the text
 * encoder the student shares with the base, which the next request without the LoRA gets back unchanged.
 */
class LoraStudentTest {
    @TempDir
    Path tmp;

    @Test
    void aBaseLoraRunsOnTheOneStepStudentAndTheSharedTextEncoderComesBack() {
        try (TextToImagePipeline pipeline = TextToImagePipeline.builder(BundledModels.resolve("emoji"))
                .loadWeightsNow(false).build(); NDManager manager = NDManager.newBaseManager()) {
            PipelineConfig base = pipeline.config();
            List<KohyaLoraWriter.Layer> layers = new ArrayList<>(LoraFixtures.randomLayers(LoraPart.UNET,
                    UNet2DConditionModel.fromConfig(base.unet()), p -> p.endsWith(".to_kv") || p.endsWith(".to_q")
                            || p.contains(".ff.net.") || p.endsWith("wise"), 4, 0.05f, 1, manager));
            layers.addAll(LoraFixtures.randomLayers(LoraPart.TEXT_ENCODER, new ClipTextModel(base.textEncoder()),
                    p -> p.endsWith("_proj"), 4, 0.05f, 2, manager));
            Path file = LoraFixtures.write(tmp.resolve("style.safetensors"), layers);

            GenerationRequest.Builder oneStep = pipeline.newRequest().prompt("a red apple").steps(1).seed(3);
            GenerationPlan plan = pipeline.plan(oneStep.lora(new LoraSpec(file, 1)).build());
            assertEquals("ufogen", plan.student().orElseThrow().index().name());
            BoundLora bound = plan.loras().entries().get(0).lora();
            assertTrue(bound.complete(), () -> bound.describeProblems(""));
            for (String kind : List.of("to_kv", "ff.net.0.proj", "ff.net.2", "depthwise", "pointwise", "q_proj")) {
                assertTrue(bound.deltas().stream().anyMatch(d -> d.weightKey().contains(kind)), kind);
            }

            GenerationRequest baseRequest = pipeline.newRequest().prompt("a red apple").steps(2).seed(3)
                    .useStudent(false).build();
            float[] baseBefore = decoded(pipeline, baseRequest);
            float[] student = decoded(pipeline, pipeline.newRequest().prompt("a red apple").steps(1).seed(3).build());
            float[] studentLora = decoded(pipeline, oneStep.build());
            assertFalse(Arrays.equals(student, studentLora), "the LoRA changes the student's image");
            assertArrayEquals(baseBefore, decoded(pipeline, baseRequest),
                    "the base model without the LoRA, text encoder included, is back bit for bit");
            assertArrayEquals(student, decoded(pipeline, pipeline.newRequest().prompt("a red apple").steps(1).seed(3)
                    .build()), "so is the student");
        }
    }

    /** A shipped LoRA must fit the model it ships with: retrain it (docs/TRAINING.md) when the base changes. */
    @Test
    void theShippedLorasMatchTheirModelsAndTheirStudents() {
        for (String[] shipped : new String[][] {{"fashion", "a photo of a zxq <lora:zxq:1>"},
            {"emoji", "a red apple <lora:openmoji:1>"}}) {
            checkShipped(shipped[0], shipped[1]);
        }
    }

    private static void checkShipped(String model, String prompt) {
        try (TextToImagePipeline pipeline = TextToImagePipeline.builder(BundledModels.resolve(model))
                .loadWeightsNow(false).build()) {
            for (int steps : new int[] {50, 8, 1}) {
                GenerationPlan plan = pipeline.plan(pipeline.newRequest().prompt(prompt).steps(steps).build());
                BoundLora bound = plan.loras().entries().get(0).lora();
                assertTrue(bound.complete(), () -> bound.describeProblems(""));
                assertEquals(bound.file().tensorCount(), bound.appliedTensors());
            }
        }
    }
}
