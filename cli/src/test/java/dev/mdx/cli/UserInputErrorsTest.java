package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.StateDicts;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.TestModels;
import dev.mdx.train.classifier.ShapesDataset;
import dev.mdx.train.vae.VaeFolder;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input that used to surface as an IllegalArgumentException or IllegalStateException deep inside a command (or
 * as an internal error) is a user error: exit code 1 (2 for a flag), a message naming the file, field or flag, and
 * never "internal error". Each case feeds the input through {@link Main#run} as a person would.
 */
class UserInputErrorsTest {
    @TempDir
    static Path shared;
    private static Path micro;
    private static Path shapes;
    private static int savedThreads;

    @TempDir
    Path tmp;

    @BeforeAll
    static void fixtures() {
        savedThreads = EngineThreads.current();
        EngineThreads.set(1);
        micro = TestModels.microPipeline(shared.resolve("micro"));
        // 4 train and 2 test images of each of 3 shapes: a train split of 12
        shapes = ShapesDataset.write(shared.resolve("shapes"), 3, 4, 2, 5);
    }

    @AfterAll
    static void restoreThreads() {
        EngineThreads.set(savedThreads);
    }

    /** A copy of the micro pipeline with one config file's text replaced. */
    private Path microWith(String file, String from, String to) throws IOException {
        Path dir = tmp.resolve(file.replace('/', '-'));
        TestModels.linkTree(micro, dir);
        Path config = dir.resolve(file);
        String text = Files.readString(config);
        assertTrue(text.contains(from), text);
        Files.delete(config);
        Files.writeString(config, text.replace(from, to));
        return dir;
    }

    private CliRun generate(Path model, String... extra) {
        return CliRun.mdx(Stream.concat(Stream.of("generate", "-m", model.toString(), "-p", "a fox", "--steps", "1",
                "-t", "1", "-o", tmp.resolve("out.png").toString()), Stream.of(extra)).toArray(String[]::new));
    }

    @Test
    void modelConfigValuesTheModelCannotBuildNameTheFileAndField() throws IOException {
        // the guidance embedding needs 4 columns; it used to fail inside generate with an IllegalArgumentException
        Path narrow = microWith("unet/config.json", "\"sample_size\"", "\"time_cond_proj_dim\": 2, \"sample_size\"");
        generate(narrow).assertUserError(ExitCodes.FAILURE, "unet", "config.json", "field 'time_cond_proj_dim'");
        // one text position holds no start and end token: the tokenizer failed on every prompt
        Path oneToken = microWith("text_encoder/config.json", "\"max_position_embeddings\": 16",
                "\"max_position_embeddings\": 1");
        generate(oneToken).assertUserError(ExitCodes.FAILURE, "text_encoder", "max_position_embeddings");
        // LCM's grid of more steps than the schedule has was blamed on --steps
        Path lcm = microWith("scheduler/scheduler_config.json", "\"num_train_timesteps\"",
                "\"original_inference_steps\": 2000, \"num_train_timesteps\"");
        generate(lcm, "--sampling-method", "lcm").assertUserError(ExitCodes.FAILURE, "scheduler_config.json",
                "field 'original_inference_steps' must be in [1, num_train_timesteps = 1000], got 2000");
    }

    @Test
    void anUnknownPrecisionIsAFlagErrorAndBf16Generates() {
        generate(micro, "--precision", "fp8").assertUserError(ExitCodes.USAGE, "--precision",
                "unknown precision 'fp8' (fp32, bf16)");
        CliRun.mdx("bench", "--preset", "mobilediffusion-tiny", "--precision", "half")
                .assertUserError(ExitCodes.USAGE, "--precision", "unknown precision 'half'");
        CliRun ok = generate(micro, "--precision", "bf16");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(Files.isRegularFile(tmp.resolve("out.png")));
    }

    @Test
    void aFashionSizeOutOfRangeIsAFlagError() {
        CliRun.mdx("data", "fashion", "-o", tmp.resolve("f").toString(), "--size", "20")
                .assertUserError(ExitCodes.USAGE, "--size must be between 28 and 256");
    }

    private Path config(String name, String json) throws IOException {
        return Files.writeString(tmp.resolve(name), json.replace("SHAPES", shapes.toString())
                .replace("MICRO", micro.toString()));
    }

    private CliRun train(String stage, Path config, String... extra) {
        String[] args = Stream.concat(Stream.of("train", stage, "-c", config.toString(), "-o",
                tmp.resolve("run").toString(), "-t", "1"), Stream.of(extra)).toArray(String[]::new);
        return CliRun.mdx(args);
    }

    @Test
    void clipBatchesTheStageCannotTrainOnNameTheSetting() throws IOException {
        String cfg = """
                {"trainer": {"max_train_steps": 1, "train_batch_size": %d},
                 "data": {"dataset": "SHAPES"}, "tokenizer": {}, "model": {"text": {}, "vision": {}}}""";
        train("clip", config("one.json", cfg.formatted(1))).assertUserError(ExitCodes.FAILURE,
                "section 'trainer': field 'train_batch_size' must be at least 2");
        train("clip", config("big.json", cfg.formatted(100))).assertUserError(ExitCodes.FAILURE,
                "split 'train' has 12 items, fewer than train_batch_size 100");
    }

    @Test
    void unetSettingsTheLossOrDataCannotTakeNameTheSetting() throws IOException {
        train("unet", config("sample.json", """
                {"trainer": {"max_train_steps": 1}, "prediction_type": "sample"}"""))
                .assertUserError(ExitCodes.FAILURE, "field 'prediction_type'");
        // refused before a single image is encoded to a latent
        train("unet", config("big.json", """
                {"trainer": {"max_train_steps": 1, "train_batch_size": 100},
                 "unet": "MICRO/unet/config.json", "text_encoder": "MICRO/text_encoder", "tokenizer": "MICRO/tokenizer",
                 "vae": "MICRO/vae", "data": {"dataset": "SHAPES"}}"""))
                .assertUserError(ExitCodes.FAILURE, "split 'train' has 12 items, fewer than train_batch_size 100");
    }

    /** RGB images into a gray autoencoder failed inside the engine's convolution; now a data set error. */
    @Test
    void imagesTheVaeCannotEncodeAreADatasetError() throws IOException {
        Path grayVae = tmp.resolve("gray-vae");
        String json = Files.readString(micro.resolve("vae/config.json")).replace("\"in_channels\": 3",
                "\"in_channels\": 1").replace("\"out_channels\": 3", "\"out_channels\": 1");
        VaeConfig config = VaeConfig.from(JsonConfig.parse("gray vae", json));
        try (NDManager m = NDManager.newBaseManager()) {
            AutoencoderKL vae = new AutoencoderKL(config);
            StateDicts.initRandom(vae, m, 4);
            VaeFolder.write(grayVae, config, vae, false);
        }
        train("unet", config("rgb.json", """
                {"trainer": {"max_train_steps": 1, "train_batch_size": 2},
                 "unet": "MICRO/unet/config.json", "text_encoder": "MICRO/text_encoder", "tokenizer": "MICRO/tokenizer",
                 "vae": "%s", "data": {"dataset": "SHAPES"}}""".formatted(grayVae)))
                .assertUserError(ExitCodes.FAILURE, "images have 3 channels but the model reads 1");
    }

    @Test
    void distillAndUfoGenSettingsAreCheckedAgainstTheTeacher() throws IOException {
        String distill = """
                {"trainer": {"max_train_steps": 1, "train_batch_size": 2}, "teacher": "MICRO",
                 "data": {"dataset": "SHAPES"}, "distill": {"student_steps": %d}}""";
        train("distill", config("zero.json", distill.formatted(0))).assertUserError(ExitCodes.FAILURE,
                "student_steps must be at least 1");
        // the micro teacher's schedule has 1000 training timesteps: at most 500 student steps
        train("distill", config("many.json", distill.formatted(600))).assertUserError(ExitCodes.FAILURE,
                "field 'student_steps' must be at most 500");
        train("ufogen", config("ufogen.json", """
                {"trainer": {"max_train_steps": 1, "train_batch_size": 2}, "base": "MICRO",
                 "data": {"dataset": "SHAPES"}, "ufogen": {"discriminator_learning_rate": 1e400}}"""))
                .assertUserError(ExitCodes.FAILURE, "field 'discriminator_learning_rate' must be a positive number");
        String ufogen = """
                {"trainer": {"max_train_steps": 1, "train_batch_size": 2}, "base": "MICRO",
                 "data": {"dataset": "SHAPES"%s}, "ufogen": {%s}}""";
        train("ufogen", config("tmax.json", ufogen.formatted("", "\"discriminator_max_timestep\": 1000")))
                .assertUserError(ExitCodes.FAILURE, "field 'discriminator_max_timestep' must be -1");
        train("ufogen", config("loss.json", ufogen.formatted("", "\"discriminator_loss\": \"wgan\"")))
                .assertUserError(ExitCodes.FAILURE, "field 'discriminator_loss' must be bce or hinge, got 'wgan'");
        train("ufogen", config("probe.json", ufogen.formatted("", "\"probe_every\": -1")))
                .assertUserError(ExitCodes.FAILURE, "field 'probe_every' must be >= 0");
        train("ufogen", config("max.json", ufogen.formatted(", \"max_examples\": -3", "")))
                .assertUserError(ExitCodes.FAILURE, "field 'max_examples' must be > 0");
    }

    @Test
    void classifierChannelsMustBePositive() throws IOException {
        train("classifier", config("zero.json", """
                {"trainer": {"max_train_steps": 1, "train_batch_size": 4}, "data": {"dataset": "SHAPES"},
                 "model": {"channels": [4, 0]}}"""))
                .assertUserError(ExitCodes.FAILURE, "channels must all be >= 1");
    }

    /** A finished run, rerun without --resume, and resumed from a checkpoint of other data or a damaged one. */
    @Test
    void runsAndCheckpointsThatCannotContinueAreUserErrors() throws IOException {
        Path cfg = config("classifier.json", """
                {"trainer": {"max_train_steps": 2, "train_batch_size": 4, "use_ema": false, "log_every": 1000},
                 "data": {"dataset": "SHAPES", "probe_images": 0, "eval_images": 3},
                 "model": {"channels": [4], "hidden_size": 4}}""");
        CliRun first = train("classifier", cfg);
        assertEquals(0, first.code(), first.err());
        train("classifier", cfg).assertUserError(ExitCodes.FAILURE, "already holds checkpoints (newest: step 2)");

        Path state = tmp.resolve("run/checkpoints/step-00000002/trainer_state.json");
        String saved = Files.readString(state);
        assertTrue(saved.contains("\"index\" : 8"), saved);
        // the epoch continues past the 12 train items of SHAPES: a checkpoint of a larger data set
        Files.writeString(state, saved.replace("\"index\" : 8", "\"index\" : 40"));
        Path longer = config("longer.json", Files.readString(cfg).replace("\"max_train_steps\": 2",
                "\"max_train_steps\": 3"));
        train("classifier", longer, "--resume").assertUserError(ExitCodes.FAILURE,
                "(epoch 0, item 40) lies past the 12 items");
        Files.writeString(state, saved.replace("\"epoch\" : 0", "\"epoch\" : -1"));
        train("classifier", longer, "--resume").assertUserError(ExitCodes.FAILURE, "trainer_state.json",
                "field 'data_position'");
    }
}
