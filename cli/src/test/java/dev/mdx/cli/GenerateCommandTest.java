package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.pipeline.GenerationDefaults;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.Golden;
import dev.mdx.testing.TestModels;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * {@code mdx generate} end to end through {@link Main#run}: images and their parameters chunk, and for each kind of
 * bad input one clear message on stderr, the right exit code and no stack trace. Runs on a micro random-weight
 * model (and, where the CLIP vocabulary is available, on the golden pipeline).
 */
class GenerateCommandTest {
    private static Path shared;
    private static Path micro;
    private static int savedThreads;

    @TempDir
    Path tmp;

    @BeforeAll
    static void makeModel() throws IOException {
        // tiny tensors gain nothing from intra-op threads, and on a busy 2-core machine their spinning costs 50x
        savedThreads = EngineThreads.current();
        EngineThreads.set(1);
        shared = Files.createTempDirectory("mdx-cli-test");
        micro = TestModels.microPipeline(shared.resolve("micro"));
    }

    @AfterAll
    static void cleanUp() throws IOException {
        EngineThreads.set(savedThreads);
        try (Stream<Path> walk = Files.walk(shared)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** A failure: the exit code, every fragment on stderr, and nothing that looks like a stack trace. */
    private static void assertFails(CliRun r, int code, String... fragments) {
        assertEquals(code, r.code(), "exit code; stderr: " + r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), "stderr lacks '" + f + "':\n" + r.err());
        }
        assertNoStackTrace(r);
        assertTrue(r.err().lines().count() <= 3, "a short message, not a usage dump:\n" + r.err());
    }

    private static void assertNoStackTrace(CliRun r) {
        for (String s : new String[] {r.out(), r.err()}) {
            assertFalse(s.contains("\tat ") || s.contains("Exception") || s.contains("internal error"), s);
        }
    }

    private CliRun generate(String... extra) {
        String[] base = {"generate", "-m", micro.toString(), "-p", "a red fox", "--steps", "2", "-o",
            tmp.resolve("out.png").toString()};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRun.mdx(args);
    }

    @Test
    void writesAPngWithItsParameters() throws Exception {
        CliRun r = generate("-n", "blurry", "-s", "42", "-t", "1");
        assertEquals(0, r.code(), r.err());
        assertNoStackTrace(r);
        Path png = tmp.resolve("out.png");
        assertTrue(r.out().contains("wrote " + png + " (seed 42)"), r.out());
        assertTrue(r.out().contains("done in"), r.out());
        assertTrue(r.err().contains("step 2/2"), "progress on stderr:\n" + r.err());
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(TestModels.MICRO_SIZE, image.getWidth());
        assertEquals(TestModels.MICRO_SIZE, image.getHeight());
        assertEquals("a red fox\nNegative prompt: blurry\nSteps: 2, Sampler: DDIM, CFG scale: 7.5, Seed: 42, "
                + "Size: 16x16, Model: micro", parameters(png));
    }

    @Test
    void aBatchWritesNumberedFilesWithConsecutiveSeeds() throws Exception {
        CliRun r = generate("-b", "2", "-s", "7", "--sampling-method", "EulerAncestralDiscreteScheduler");
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(tmp.resolve("out.png")));
        for (int k = 1; k <= 2; k++) {
            Path png = tmp.resolve("out_" + k + ".png");
            assertTrue(r.out().contains("wrote " + png + " (seed " + (6 + k) + ")"), r.out());
            assertTrue(parameters(png).endsWith("Steps: 2, Sampler: Euler a, CFG scale: 7.5, Seed: " + (6 + k)
                    + ", Size: 16x16, Model: micro"), parameters(png));
        }
        CliRun alone = generate("-s", "8", "--sampling-method", "euler_a");
        assertEquals(0, alone.code(), alone.err());
        assertArrayEquals(pixels(tmp.resolve("out_2.png")), pixels(tmp.resolve("out.png")),
                "image 2 of the batch is seed 8 alone");
    }

    @Test
    void aRandomSeedIsPrintedAndStored() throws Exception {
        CliRun r = generate("-s", "-1", "-W", "8", "-H", "12", "--cfg-scale", "1");
        assertEquals(0, r.code(), r.err());
        Matcher m = Pattern.compile("\\(seed (\\d+)\\)").matcher(r.out());
        assertTrue(m.find(), r.out());
        String params = parameters(tmp.resolve("out.png"));
        assertTrue(params.contains("CFG scale: 1, Seed: " + m.group(1) + ", Size: 8x12"), params);
    }

    @Test
    void aLongPromptIsReadInChunksAndGenerates() throws Exception {
        String longPrompt = "abcdefghijklmnopqrstuvwxyz"; // one token per letter, the micro encoder reads 14 a chunk
        CliRun r = CliRun.mdx("generate", "-m", micro.toString(), "-p", longPrompt, "--steps", "1", "-o",
                tmp.resolve("long.png").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("note: the prompt is 26 tokens long: encoded in 2 chunks of 14"), r.err());
        assertFalse(r.err().contains("warning"), r.err());
        assertTrue(Files.isRegularFile(tmp.resolve("long.png")));
        assertTrue(parameters(tmp.resolve("long.png")).startsWith(longPrompt + "\n"), "the full prompt is stored");
    }

    /**
     * The micro model with one student in students/NAME: the micro UNet and scheduler, the base's frozen parts, and
     * the given model_index.json keys.
     */
    private Path withStudent(String modelName, String studentName, String indexKeys) throws IOException {
        Path model = tmp.resolve(modelName);
        TestModels.linkTree(micro, model);
        Path student = model.resolve("students").resolve(studentName);
        TestModels.linkTree(micro.resolve("unet"), student.resolve("unet"));
        TestModels.linkTree(micro.resolve("scheduler"), student.resolve("scheduler"));
        Files.writeString(student.resolve("model_index.json"), "{" + indexKeys + ", \"_mdx_component_dirs\":"
                + " {\"vae\": \"../../vae\", \"text_encoder\": \"../../text_encoder\", \"tokenizer\":"
                + " \"../../tokenizer\"}}");
        return model;
    }

    @Test
    void stepsMatchingAShippedStudentUseIt() throws Exception {
        Path model = withStudent("with-student", "distill-8", "\"_mdx_student_steps\": 8");

        CliRun eight = CliRun.mdx("generate", "-m", model.toString(), "a fox", "--steps", "8", "-o",
                tmp.resolve("s8.png").toString());
        assertEquals(0, eight.code(), eight.err());
        assertTrue(eight.err().contains("note: 8 steps: using the 8-step distilled student (students/distill-8)"),
                eight.err());
        assertTrue(eight.err().contains("note: --no-student runs the base model instead"), eight.err());
        CliRun base = CliRun.mdx("generate", "-m", model.toString(), "a fox", "--steps", "8", "--no-student", "-o",
                tmp.resolve("b8.png").toString());
        assertEquals(0, base.code(), base.err());
        assertFalse(base.err().contains("using the"), base.err());
        CliRun two = CliRun.mdx("generate", "-m", model.toString(), "a fox", "--steps", "2", "-o",
                tmp.resolve("s2.png").toString());
        assertEquals(0, two.code(), two.err());
        assertFalse(two.err().contains("using the"), "no 2-step student: " + two.err());
    }

    @Test
    void aModelTakingGuidanceAsAnInputSaysSoInOneLine() {
        Path model = TestModels.microGuidanceInputPipeline(tmp.resolve("w-conditioned"));
        CliRun r = CliRun.mdx("generate", "-m", model.toString(), "a fox", "--steps", "2", "--cfg-scale", "4", "-o",
                tmp.resolve("w.png").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(1, r.err().lines().filter(l -> l.contains("takes the guidance scale as an input")).count(),
                r.err());
        assertTrue(Files.isRegularFile(tmp.resolve("w.png")));
    }

    @Test
    void aSmallModelRunsOnOneThreadUnlessTSaysOtherwise() {
        try {
            EngineThreads.set(2);
            CliRun r = CliRun.mdx("generate", "-m", micro.toString(), "a fox", "--steps", "1", "-o",
                    tmp.resolve("one.png").toString());
            assertEquals(0, r.code(), r.err());
            assertEquals(1, EngineThreads.current(), "a micro UNet is far under the one-thread limit");
            r = CliRun.mdx("generate", "-m", micro.toString(), "a fox", "--steps", "1", "-t", "2", "-o",
                    tmp.resolve("two.png").toString());
            assertEquals(0, r.code(), r.err());
            assertEquals(2, EngineThreads.current(), "-t wins");
        } finally {
            EngineThreads.set(1);
        }
    }

    @Test
    void noPrompt() {
        assertFails(CliRun.mdx("generate", "-m", micro.toString()), ExitCodes.USAGE, "mdx generate: no prompt given",
                "-p/--prompt", "Try 'mdx generate --help'");
    }

    @Test
    void thePromptMayBeTheArgument() throws Exception {
        Path out = tmp.resolve("positional.png");
        CliRun r = CliRun.mdx("generate", "-m", micro.toString(), "a fox", "--steps", "1", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(parameters(out).startsWith("a fox\n"), "the argument is the prompt");
        assertFails(CliRun.mdx("generate", "-m", micro.toString(), "-p", "a fox", "a cat"), ExitCodes.USAGE,
                "two prompts given");
    }

    @Test
    void missingModelFolder() {
        Path absent = tmp.resolve("no-such-model");
        assertFails(CliRun.mdx("generate", "-m", absent.toString(), "-p", "a fox"), ExitCodes.FAILURE,
                "mdx generate: error: model folder " + absent + " does not exist");
        assertFails(CliRun.mdx("generate", "-m", "no-such-model", "-p", "a fox"), ExitCodes.FAILURE,
                "mdx generate: error: model 'no-such-model' is neither a folder nor a bundled model");
    }

    @Test
    void folderMissingAComponent() throws IOException {
        Path broken = tmp.resolve("broken");
        TestModels.linkTree(micro, broken);
        Files.delete(broken.resolve("vae/diffusion_pytorch_model.safetensors"));
        Files.delete(broken.resolve("tokenizer/vocab.json"));
        assertFails(CliRun.mdx("generate", "-m", broken.toString(), "-p", "a fox"), ExitCodes.FAILURE,
                "is not a complete diffusers pipeline folder; missing: vae/diffusion_pytorch_model.safetensors, "
                        + "tokenizer/vocab.json");
    }

    @Test
    void sizeNotAMultipleOfTheVaeFactor() throws IOException {
        // an SD-like VAE with four levels (factor 8); its weights never load because the request fails first
        Path sdLike = tmp.resolve("factor8");
        TestModels.linkTree(micro, sdLike);
        Path vaeConfig = sdLike.resolve("vae/config.json");
        ObjectNode vae = JsonConfig.read(vaeConfig).copyRoot();
        vae.putArray("block_out_channels").add(8).add(8).add(8).add(8);
        Files.delete(vaeConfig);
        Files.writeString(vaeConfig, JsonConfig.MAPPER.writeValueAsString(vae));
        assertFails(CliRun.mdx("generate", "-m", sdLike.toString(), "-p", "a fox", "-W", "100"), ExitCodes.USAGE,
                "mdx generate: -W/--width must be a multiple of 8 (the VAE's downsampling factor), got 100 "
                        + "(try 96 or 104)");
        assertFails(CliRun.mdx("generate", "-m", sdLike.toString(), "-p", "a fox", "-W", "64", "-H", "30"),
                ExitCodes.USAGE, "-H/--height must be a multiple of 8");
        assertFails(generate("-W", "15"), ExitCodes.USAGE, "-W/--width must be a multiple of 2");
    }

    @Test
    void stepsBelowOne() {
        assertFails(generate("--steps", "0"), ExitCodes.USAGE, "mdx generate: --steps must be at least 1, got 0");
        assertFails(generate("--steps", "5000"), ExitCodes.USAGE, "--steps cannot be 5000 with ddim");
    }

    @Test
    void unknownSampler() {
        assertFails(generate("--sampling-method", "plms"), ExitCodes.USAGE,
                "mdx generate: --sampling-method: unknown sampler 'plms' (known: ddpm, ddim, euler, euler_a, "
                        + "dpm++2m, lcm, ufogen");
    }

    @Test
    void negativeBatchCount() {
        assertFails(generate("-b", "-2"), ExitCodes.USAGE, "mdx generate: -b/--batch-count must be at least 1, got -2");
    }

    @Test
    void otherBadValues() {
        assertFails(generate("--cfg-scale", "-3"), ExitCodes.USAGE, "--cfg-scale must be a number >= 0, got -3.0");
        assertFails(generate("--eta", "-1"), ExitCodes.USAGE, "--eta must be between 0 and 1, got -1.0");
        assertFails(generate("--eta", "1.1"), ExitCodes.USAGE, "--eta must be between 0 and 1, got 1.1");
        assertFails(generate("-t", "0"), ExitCodes.USAGE, "-t/--threads: the thread count must be between 1 and");
        assertFails(generate("-t", "100000"), ExitCodes.USAGE, "-t/--threads: the thread count must be between 1 and "
                + Runtime.getRuntime().availableProcessors() + " (the cores of this machine), got 100000");
        assertFails(generate("--steps", "many"), ExitCodes.USAGE, "mdx generate: Invalid value for option "
                + "'--steps': 'many' is not an int", "Try 'mdx generate --help'");
        assertFails(CliRun.mdx("generate", "-m", micro.toString()), ExitCodes.USAGE, "no prompt given");
        assertFails(generate("-o", tmp.resolve("out.jpg").toString()), ExitCodes.USAGE, "writes PNG images");
        assertFails(CliRun.mdx("generate", "--no-such-flag"), ExitCodes.USAGE, "Unknown option: '--no-such-flag'");
    }

    @Test
    void unwritableOutputPath() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "not a folder");
        Path output = file.resolve("out.png");
        assertFails(generate("-o", output.toString()), ExitCodes.FAILURE,
                "mdx generate: error: cannot write " + output + ": " + file + " is a file, not a folder");
        assertFails(generate("-o", tmp.toString()), ExitCodes.USAGE, "-o/--output: " + tmp + " is a folder");
    }

    @Test
    void outputsThatWouldFailAfterGeneratingFailBeforeLoading() {
        assertFails(generate("-o", "/proc/mdx-output.png"), ExitCodes.FAILURE,
                "mdx generate: error: cannot write /proc/mdx-output.png:");
        String longName = "a".repeat(300) + ".png";
        assertFails(generate("-o", tmp.resolve(longName).toString()), ExitCodes.FAILURE, "cannot write",
                "File name too long");
        assertFails(generate("-o", "/dev/full"), ExitCodes.USAGE,
                "-o/--output: /dev/full is a device or other special file");
        assertFalse(Files.exists(Path.of("/dev/full.png")));
    }

    @Test
    void sizesBeyondTheMachinesMemoryAreRefusedBeforeLoading() {
        assertFails(generate("-W", "100000", "-H", "100000"), ExitCodes.FAILURE,
                "mdx generate: error: a 100000x100000 image needs about ", "this machine can give");
    }

    @Test
    void seedsOfABatchMustNotWrapAround() {
        assertFails(generate("-s", Long.toString(Long.MAX_VALUE), "-b", "2"), ExitCodes.USAGE,
                "-s/--seed must leave room for the batch's seeds");
        CliRun last = generate("-s", Long.toString(Long.MAX_VALUE), "--steps", "1", "-o",
                tmp.resolve("max.png").toString());
        assertEquals(0, last.code(), last.err());
        assertTrue(last.out().contains("seed " + Long.MAX_VALUE), last.out());
    }

    @Test
    void stepsBelowOneFailBeforeAnyStudentIsNamed() throws Exception {
        Path model = withStudent("with-ufogen", "ufogen",
                "\"scheduler\": [\"diffusers\", \"UFOGenScheduler\"], \"_mdx_student_steps\": 1");
        CliRun zero = CliRun.mdx("generate", "-m", model.toString(), "a fox", "--steps", "0");
        assertEquals(ExitCodes.USAGE, zero.code(), zero.err());
        assertFalse(zero.err().contains("using the"), zero.err());
        CliRun two = CliRun.mdx("generate", "-m", model.toString(), "a fox", "--steps", "2", "-o",
                tmp.resolve("two.png").toString());
        assertTrue(two.err().contains("note: 2 steps: using the UFOGen student (made for one step; 2 with its"
                + " multi-step sampling)"), two.err());
    }

    @Test
    void nanWeightsFailWithoutWritingAnImage() throws Exception {
        Path model = TestModels.microPipeline(tmp.resolve("nan"));
        TestModels.fillTensor(model.resolve("unet/diffusion_pytorch_model.safetensors"), "conv_out.bias", Float.NaN);
        Path png = tmp.resolve("nan.png");
        assertFails(CliRun.mdx("generate", "-m", model.toString(), "a fox", "--steps", "2", "-o", png.toString()),
                ExitCodes.FAILURE, "mdx generate: error: step 1 of 2 (timestep");
        assertFalse(Files.exists(png));
    }

    @Test
    void eachImageOfABatchIsWrittenAsItFinishes() {
        CliRun run = generate("-b", "3", "--steps", "1", "-s", "4", "-o", tmp.resolve("b.png").toString());
        assertEquals(0, run.code(), run.err());
        for (int k = 1; k <= 3; k++) {
            assertTrue(Files.isRegularFile(tmp.resolve("b_" + k + ".png")));
            assertTrue(run.out().contains("wrote " + tmp.resolve("b_" + k + ".png") + " (seed " + (3 + k) + ")"),
                    run.out());
        }
    }

    /** A PNG of w x h filled with one grey level, as an init image or a mask. */
    private Path png(String name, int w, int h, int level) {
        byte[] rgb = new byte[w * h * 3];
        java.util.Arrays.fill(rgb, (byte) level);
        Path file = tmp.resolve(name);
        new dev.mdx.pipeline.RgbImage(w, h, rgb).writePng(file, java.util.Map.of());
        return file;
    }

    @Test
    void editsAnImageWithItsStrengthInTheParameters() throws Exception {
        Path init = png("init.png", 40, 30, 90);
        Path out = tmp.resolve("edit.png");
        CliRun r = generate("-i", init.toString(), "--strength", "0.5", "--steps", "4", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("note: the init image is 40x30; resized to"), r.err());
        assertTrue(r.err().contains("step 2/2"), "int(4 * 0.5) = 2 steps run:\n" + r.err());
        assertTrue(Files.readString(out, java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains("Denoising strength: 0.5"));
        Path mask = png("black.png", 40, 30, 0);
        CliRun kept = generate("-i", init.toString(), "--mask", mask.toString(), "-o", tmp.resolve("kept.png")
                .toString());
        assertEquals(0, kept.code(), kept.err());
    }

    @Test
    void badEditInputs() throws Exception {
        Path init = png("init.png", 16, 16, 90);
        assertFails(generate("-i", tmp.resolve("none.png").toString()), ExitCodes.FAILURE,
                "mdx generate: error: the init image " + tmp.resolve("none.png") + " does not exist");
        Path text = Files.writeString(tmp.resolve("notes.png"), "not an image");
        assertFails(generate("-i", text.toString()), ExitCodes.FAILURE, "is not an image mdx can read");
        assertFails(generate("-i", init.toString(), "--strength", "1.2"), ExitCodes.USAGE,
                "--strength must be between 0 and 1, got 1.2");
        assertFails(generate("-i", init.toString(), "--mask", png("small.png", 8, 8, 255).toString()),
                ExitCodes.USAGE, "--mask is 8x8 but the image is 16x16");
        assertFails(generate("-i", init.toString(), "--mask", png("grey.png", 16, 16, 128).toString()),
                ExitCodes.USAGE, "--mask is mostly grey");
        assertFails(generate("--mask", init.toString()), ExitCodes.USAGE, "give it with -i/--init-img FILE");
        assertFails(generate("-i", init.toString(), "--outpaint", "8,8"), ExitCodes.USAGE,
                "--outpaint needs LEFT,TOP,RIGHT,BOTTOM");
    }

    @Test
    void helpReadsWell() {
        CliRun root = CliRun.mdx("--help");
        assertEquals(0, root.code());
        assertTrue(root.out().contains("Commands:") && root.out().contains("generate")
                && root.out().contains("bench"), root.out());
        CliRun help = CliRun.mdx("generate", "--help");
        assertEquals(0, help.code());
        for (String flag : new String[] {"-m, --model=MODEL", "-p, --prompt=TEXT", "-n, --negative-prompt=TEXT",
            "--steps=N", "--cfg-scale=SCALE", "-s, --seed=N", "-o, --output=FILE", "-W, --width=PX",
            "-H, --height=PX", "-b, --batch-count=N", "--sampling-method=NAME", "-t, --threads=N", "--eta=ETA",
            "Examples:"}) {
            assertTrue(help.out().contains(flag), flag + " in:\n" + help.out());
        }
    }

    /** The spec'd first command, on the golden pipeline composed with the shared CLIP vocabulary. */
    @Test
    void generatesWithTheGoldenPipelineAndTheRealVocabulary() throws Exception {
        Path vocab = Golden.sharedTokenizerDir(getClass().getSimpleName());
        Assumptions.assumeTrue(vocab != null, "CLIP vocab.json/merges.txt not available: skipped");
        Path model = TestModels.goldenPipeline(tmp.resolve("golden"), vocab);
        Path png = tmp.resolve("astronaut.png");
        CliRun r = CliRun.mdx("generate", "-m", model.toString(), "-p", "a photo of an astronaut riding a horse on mars",
                "--steps", "8", "-s", "1", "-o", png.toString());
        assertEquals(0, r.code(), r.err());
        assertNoStackTrace(r);
        assertEquals("", r.err().lines().filter(l -> l.startsWith("warning")).findAny().orElse(""));
        BufferedImage image = ImageIO.read(png.toFile());
        int size = Golden.pipelineImageSize();
        assertEquals(size, image.getWidth(), "golden UNet sample_size x VAE factor");
        assertEquals(size, image.getHeight(), "golden UNet sample_size x VAE factor");
        // the sampler and guidance the golden scheduler implies
        SamplerKind kind = SamplerKind.fromDiffusersClass(Golden.pipelineSchedulerClass()).orElseThrow();
        boolean karras = ScheduleConfig.read(model.resolve("scheduler/scheduler_config.json")).useKarrasSigmas()
                && (kind == SamplerKind.EULER || kind == SamplerKind.DPMPP_2M);
        String cfg = BigDecimal.valueOf(GenerationDefaults.forSampler(size, size, kind).cfgScale())
                .stripTrailingZeros().toPlainString();
        assertEquals("a photo of an astronaut riding a horse on mars\nSteps: 8, Sampler: " + kind.a1111Name()
                + (karras ? " Karras" : "") + ", CFG scale: " + cfg + ", Seed: 1, Size: " + size + "x" + size
                + ", Model: golden", parameters(png));
    }

    private static String parameters(Path png) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(png.toFile())) {
            ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
            reader.setInput(in);
            Element root = (Element) reader.getImageMetadata(0).getAsTree("javax_imageio_png_1.0");
            NodeList entries = root.getElementsByTagName("tEXtEntry");
            for (int i = 0; i < entries.getLength(); i++) {
                Element e = (Element) entries.item(i);
                if (e.getAttribute("keyword").equals("parameters")) {
                    return e.getAttribute("value");
                }
            }
            throw new AssertionError("no parameters chunk in " + png);
        }
    }

    private static int[] pixels(Path png) throws IOException {
        BufferedImage image = ImageIO.read(png.toFile());
        return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    }
}
