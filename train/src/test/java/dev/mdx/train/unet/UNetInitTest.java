package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.StateDictMismatchException;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.TestModels;
import dev.mdx.train.classifier.ShapesDataset;
import dev.mdx.unet.UNetConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code init_unet}: stage unet fine-tunes a trained UNet instead of starting from random weights. */
class UNetInitTest {
    private static final Path UNET_WEIGHTS = Path.of("unet", "diffusion_pytorch_model.safetensors");

    @TempDir
    Path dir;
    private int threads;
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final PrintStream log = new PrintStream(printed, true, StandardCharsets.UTF_8);

    @BeforeEach
    void setUp() {
        threads = EngineThreads.current();
        EngineThreads.set(1);
        TestModels.microPipeline(dir.resolve("micro"));
        ShapesDataset.write(dir.resolve("shapes"), 3, 2, 1, 5);
    }

    @AfterEach
    void restoreThreads() {
        EngineThreads.set(threads);
    }

    /** One step at a negligible learning rate: the export is the starting UNet, up to fp16 rounding. */
    private Path run(String name, String unetKeys) throws Exception {
        Path config = dir.resolve(name + ".json");
        Files.writeString(config, """
                {"trainer": {"max_train_steps": 1, "train_batch_size": 3, "learning_rate": 1e-12,
                             "checkpointing_steps": 1000, "use_ema": false, "log_every": 1000},
                 %s, "text_encoder": "micro/text_encoder", "tokenizer": "micro/tokenizer", "vae": "micro/vae",
                 "data": {"dataset": "shapes", "split": "train"}}""".formatted(unetKeys));
        Path out = dir.resolve(name);
        UNetTraining.run(config, out, false, log);
        return out.resolve("pipeline");
    }

    private double maxDifferenceFromMicro(Path pipeline) {
        double max = 0;
        try (NDManager m = NDManager.newBaseManager();
                SafeTensorsFile micro = SafeTensorsFile.open(dir.resolve("micro").resolve(UNET_WEIGHTS));
                SafeTensorsFile trained = SafeTensorsFile.open(pipeline.resolve(UNET_WEIGHTS))) {
            assertEquals(micro.tensors().keySet(), trained.tensors().keySet());
            for (String key : micro.tensors().keySet()) {
                max = Math.max(max, micro.load(key, m, DataType.FLOAT32).sub(trained.load(key, m, DataType.FLOAT32))
                        .abs().max().getFloat());
            }
        }
        return max;
    }

    @Test
    void aPipelineFolderGivesTheStartingWeightsAndTheUNetConfig() throws Exception {
        Path warm = run("warm", "\"init_unet\": \"micro\"");
        assertTrue(maxDifferenceFromMicro(warm) < 2e-3, "starts from micro's UNet: " + maxDifferenceFromMicro(warm));
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("UNet starts from "), printed.toString());
        assertTrue(Files.readString(warm.resolve("model_index.json")).contains("starting from "),
                "the export says where it started");
        assertEquals(UNetConfig.read(dir.resolve("micro/unet/config.json")).toJsonNode(),
                UNetConfig.read(warm.resolve("unet/config.json")).toJsonNode(), "the UNet config is micro's");

        Path fromUnetFolder = run("unet-folder", "\"unet\": \"micro/unet/config.json\", \"init_unet\": \"micro/unet\"");
        assertTrue(maxDifferenceFromMicro(fromUnetFolder) < 2e-3);

        Path cold = run("cold", "\"unet\": \"micro/unet/config.json\"");
        assertTrue(maxDifferenceFromMicro(cold) > 0.05, "random start: " + maxDifferenceFromMicro(cold));
    }

    @Test
    void anotherShapeOrAFolderWithoutAUNetIsRefused() throws Exception {
        UNetCheckpointExportTest.writeWiderUNetConfig(dir.resolve("micro/unet/config.json"), dir.resolve("wider.json"));
        assertThrows(StateDictMismatchException.class,
                () -> run("mismatch", "\"unet\": \"wider.json\", \"init_unet\": \"micro\""));
        ModelFormatException neither = assertThrows(ModelFormatException.class,
                () -> run("neither", "\"init_unet\": \"shapes\""));
        assertTrue(neither.getMessage().contains("init_unet"), neither.getMessage());
    }
}
