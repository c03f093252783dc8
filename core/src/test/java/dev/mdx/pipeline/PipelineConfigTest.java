package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.ModelFormatException;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.unet.UNetConfig;
import dev.mdx.testing.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Defaults and checks read from a folder's config files alone (the weights files here are empty). */
class PipelineConfigTest {
    private static final List<String> CONFIGS = List.of("model_index.json", "unet/config.json", "vae/config.json",
            "text_encoder/config.json", "scheduler/scheduler_config.json");
    private static final List<String> OTHER_FILES = List.of("unet/diffusion_pytorch_model.safetensors",
            "vae/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors", "tokenizer/vocab.json",
            "tokenizer/merges.txt");

    @TempDir
    Path dir;

    /** The golden configs with placeholder weights and tokenizer files. */
    private Path folder() throws IOException {
        for (String f : CONFIGS) {
            Files.createDirectories(dir.resolve(f).getParent());
            Files.copy(Golden.root().resolve(f), dir.resolve(f));
        }
        for (String f : OTHER_FILES) {
            Files.createDirectories(dir.resolve(f).getParent());
            Files.createFile(dir.resolve(f));
        }
        return dir;
    }

    private void edit(String file, Consumer<ObjectNode> change) throws IOException {
        ObjectNode root = JsonConfig.read(dir.resolve(file)).copyRoot();
        change.accept(root);
        Files.writeString(dir.resolve(file), JsonConfig.MAPPER.writeValueAsString(root));
    }

    private void schedulerClass(String indexClass, String configClass) throws IOException {
        edit("model_index.json", r -> r.putArray("scheduler").add("diffusers").add(indexClass));
        edit("scheduler/scheduler_config.json", r -> r.put("_class_name", configClass));
    }

    private PipelineConfig read() {
        return PipelineConfig.read(ModelFolder.open(dir));
    }

    @Test
    void goldenDefaultsAsDiffusersComputesThem() throws IOException {
        folder();
        PipelineConfig c = read();
        assertEquals(Golden.pipelineVaeScaleFactor(), c.vaeScaleFactor(), "2 ** (len(block_out_channels) - 1)");
        SamplerKind sampler = SamplerKind.fromDiffusersClass(Golden.pipelineSchedulerClass()).orElseThrow();
        int size = Golden.pipelineImageSize();
        assertEquals(GenerationDefaults.forSampler(size, size, sampler), c.defaults(),
                "unet sample_size x VAE factor; the scheduler's sampler and its steps and guidance");
        assertEquals(Golden.pipelineSchedulerClass(), c.schedulerClass());
        assertEquals(List.of(), c.notes());
        assertEquals(dir.getFileName().toString(), c.modelName());
        assertEquals("DDIM", c.samplerDisplayName(SamplerKind.DDIM));
    }

    @Test
    void theModelIndexNamesTheSchedulerClass() throws IOException {
        folder();
        schedulerClass("EulerAncestralDiscreteScheduler", "DDIMScheduler");
        assertEquals(SamplerKind.EULER_ANCESTRAL, read().defaults().sampler());
        Files.delete(dir.resolve("model_index.json"));
        assertEquals(SamplerKind.DDIM, read().defaults().sampler(), "without model_index.json: _class_name");
    }

    @Test
    void distilledSchedulersAdviseFewStepsWithoutGuidance() throws IOException {
        folder();
        int size = Golden.pipelineImageSize();
        schedulerClass("LCMScheduler", "LCMScheduler");
        assertEquals(new GenerationDefaults(size, size, 4, 1.0, SamplerKind.LCM), read().defaults());
        schedulerClass("UFOGenScheduler", "UFOGenScheduler");
        assertEquals(new GenerationDefaults(size, size, 1, 1.0, SamplerKind.UFOGEN), read().defaults());
    }

    @Test
    void anUnimplementedSchedulerFallsBackWithANote() throws IOException {
        folder();
        schedulerClass("PNDMScheduler", "PNDMScheduler");
        PipelineConfig c = read();
        assertEquals(PipelineConfig.FALLBACK_SAMPLER, c.defaults().sampler());
        assertEquals(1, c.notes().size());
        assertTrue(c.notes().get(0).contains("PNDMScheduler"), c.notes().get(0));
    }

    @Test
    void karrasSigmasShowInTheSamplerName() throws IOException {
        folder();
        edit("scheduler/scheduler_config.json", r -> r.put("use_karras_sigmas", true));
        assertEquals("DPM++ 2M Karras", read().samplerDisplayName(SamplerKind.DPMPP_2M));
        assertEquals("Euler a", read().samplerDisplayName(SamplerKind.EULER_ANCESTRAL));
    }

    @Test
    void sizeWithoutUNetSampleSizeComesFromTheVae() throws IOException {
        folder();
        edit("unet/config.json", r -> r.remove("sample_size"));
        assertEquals(JsonConfig.read(dir.resolve("vae/config.json")).requireInt("sample_size"),
                read().defaults().width(), "vae sample_size");
    }

    @Test
    void mismatchedComponentsAreNamed() throws IOException {
        folder();
        // widths that differ from the UNet's (one head keeps any hidden size valid)
        UNetConfig unet = UNetConfig.read(dir.resolve("unet/config.json"));
        int crossAttentionDim = unet.crossAttentionDim().get(0);
        int inChannels = unet.inChannels();
        edit("text_encoder/config.json",
                r -> r.put("hidden_size", crossAttentionDim + 8).put("num_attention_heads", 1));
        edit("vae/config.json", r -> r.put("latent_channels", inChannels + 4));
        ModelFormatException e = assertThrows(ModelFormatException.class, this::read);
        for (String part : List.of("cross_attention_dim", "hidden_size", "in_channels", "latent_channels")) {
            assertTrue(e.getMessage().contains(part), e.getMessage());
        }
    }

    @Test
    void everyMissingFileIsNamedAtOnce() throws IOException {
        folder();
        Files.delete(dir.resolve("vae/diffusion_pytorch_model.safetensors"));
        Files.delete(dir.resolve("tokenizer/merges.txt"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFolder.open(dir));
        assertTrue(e.getMessage().contains("vae/diffusion_pytorch_model.safetensors")
                && e.getMessage().contains("tokenizer/merges.txt"), e.getMessage());
        Path vocab = Files.createDirectories(dir.resolve("elsewhere"));
        Files.createFile(vocab.resolve("vocab.json"));
        Files.createFile(vocab.resolve("merges.txt"));
        Files.createFile(dir.resolve("vae/diffusion_pytorch_model.safetensors"));
        assertEquals(vocab.resolve("merges.txt"), ModelFolder.open(dir, vocab).merges(), "tokenizer from elsewhere");
        assertThrows(ModelFormatException.class, () -> ModelFolder.open(dir.resolve("absent")));
    }

    @Test
    void modelChecksNameTheField() throws IOException {
        folder();
        PipelineConfig c = read();
        int f = Golden.pipelineVaeScaleFactor();
        int size = Golden.pipelineImageSize();
        Assumptions.assumeTrue(f > 1, "a VAE that does not downsample accepts every size");
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> c.validateSize(size + 1, f));
        assertEquals("width", e.field());
        assertEquals("width must be a multiple of " + f + " (the VAE's downsampling factor), got " + (size + 1)
                + " (try " + size + " or " + (size + f) + ")", e.getMessage());
        c.validateSize(size + f, f);
    }
}
