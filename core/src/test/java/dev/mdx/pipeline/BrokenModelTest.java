package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken models fail with a message naming what broke: non-finite weights stop a run instead of returning a black image. */
class BrokenModelTest {
    @TempDir
    Path tmp;

    @Test
    void nanUnetWeightsStopAtTheFirstStepAndDeliverNoImage() throws Exception {
        Path model = TestModels.microPipeline(tmp.resolve("nan-unet"));
        TestModels.fillTensor(model.resolve("unet/diffusion_pytorch_model.safetensors"), "conv_out.bias", Float.NaN);
        try (TextToImagePipeline pipeline = TextToImagePipeline.load(model)) {
            List<Integer> delivered = new ArrayList<>();
            GenerationPlan plan = pipeline.plan(pipeline.newRequest().prompt("a fox").steps(3).seed(1).build());
            NonFiniteValuesException e = assertThrows(NonFiniteValuesException.class,
                    () -> pipeline.generate(plan, StepCallback.NONE, (k, image, used) -> delivered.add(k)));
            assertTrue(e.getMessage().startsWith("step 1 of 3 (timestep "), e.getMessage());
            assertTrue(e.getMessage().contains("NaN or infinite latents"), e.getMessage());
            assertEquals(List.of(), delivered);
        }
    }

    @Test
    void nanVaeWeightsStopAtTheDecode() throws Exception {
        Path model = TestModels.microPipeline(tmp.resolve("nan-vae"));
        TestModels.fillTensor(model.resolve("vae/diffusion_pytorch_model.safetensors"), "decoder.conv_out.bias",
                Float.NaN);
        try (TextToImagePipeline pipeline = TextToImagePipeline.load(model)) {
            NonFiniteValuesException e = assertThrows(NonFiniteValuesException.class,
                    () -> pipeline.generate(pipeline.newRequest().prompt("a fox").steps(2).build()));
            assertTrue(e.getMessage().startsWith("the VAE decoded image 1 to NaN or infinite values"), e.getMessage());
        }
    }

    @Test
    void aTokenizerBeyondTheTextEncodersVocabularyIsAModelError() throws Exception {
        Path model = TestModels.microPipeline(tmp.resolve("small-vocab"));
        Path config = model.resolve("text_encoder/config.json");
        Files.writeString(config, Files.readString(config).replaceAll("\"vocab_size\": *\\d+", "\"vocab_size\": 5"));
        dev.mdx.io.ModelFormatException e = assertThrows(dev.mdx.io.ModelFormatException.class,
                () -> TextToImagePipeline.builder(model).loadWeightsNow(false).build());
        assertTrue(e.getMessage().contains("but the text encoder's vocab_size is 5"), e.getMessage());
    }

    @Test
    void healthyModelsRunUnchanged() throws Exception {
        Path model = TestModels.microPipeline(tmp.resolve("ok"));
        try (TextToImagePipeline pipeline = TextToImagePipeline.load(model)) {
            assertEquals(1, pipeline.generate(pipeline.newRequest().prompt("a fox").steps(2).build()).images().size());
        }
        assertTrue(Files.isDirectory(model));
    }
}
