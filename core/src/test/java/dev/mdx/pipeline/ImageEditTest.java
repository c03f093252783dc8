package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.mdx.testing.TestModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Image to image, inpainting and outpainting on a micro random model: what users rely on, and bad input. */
class ImageEditTest {
    private static MicroPipelineFixture fixture;
    private static RgbImage photo;

    @BeforeAll
    static void load() throws Exception {
        fixture = new MicroPipelineFixture("mdx-edit", TestModels::microPipeline);
        int size = fixture.pipeline.defaults().width();
        byte[] rgb = new byte[size * size * 3];
        new Random(5).nextBytes(rgb);
        photo = new RgbImage(size, size, rgb);
    }

    @AfterAll
    static void close() throws Exception {
        fixture.close();
    }

    private static GenerationRequest.Builder request(ImageEdit edit) {
        return fixture.pipeline.newRequest().prompt("a fox").steps(4).seed(11).edit(edit);
    }

    private static ImageEdit masked(GrayImage mask, Double strength) {
        return new ImageEdit(photo, mask, strength, ImageEdit.DEFAULT_MASK_BLUR, true, null);
    }

    @Test
    void strengthZeroRunsNoStepAndReturnsTheImageThroughTheVae() {
        GenerationPlan plan = fixture.pipeline.plan(request(ImageEdit.img2img(photo, 0.0)).build());
        assertEquals(0, plan.totalSteps());
        assertTrue(plan.warnings().stream().anyMatch(w -> w.contains("round trip through the VAE")),
                plan.warnings().toString());
        GenerationResult r = fixture.pipeline.generate(plan, StepCallback.NONE, null);
        assertEquals(List.of(), r.timings().unetStepMs());
        assertEquals(photo.width(), r.images().get(0).width());
    }

    @Test
    void strengthSetsHowManyStepsRunAsDiffusersDoes() {
        // init_timestep = min(int(n * strength), n): 4 * 0.6 = 2.4 -> 2 steps of the 4-step plan
        GenerationPlan plan = fixture.pipeline.plan(request(ImageEdit.img2img(photo, 0.6)).build());
        assertEquals(2, plan.firstStep());
        assertEquals(2, plan.totalSteps());
        assertEquals(0.6, plan.parameters().denoisingStrength());
        assertTrue(plan.parameters().infotext(0).contains("Denoising strength: 0.6"), plan.parameters().infotext(0));
    }

    @Test
    void anAllBlackMaskReturnsTheInputBitForBit() {
        int s = photo.width();
        RgbImage out = fixture.pipeline.generate(request(masked(GrayImage.filled(s, s, 0), 0.8)).build())
                .images().get(0);
        assertArrayEquals(photo.rgb(), out.rgb());
    }

    @Test
    void anAllWhiteMaskAtStrengthOneIsTextToImageWithTheSameSeed() {
        int s = photo.width();
        byte[] inpainted = fixture.pipeline.generate(request(masked(GrayImage.filled(s, s, 255), 1.0)).build())
                .images().get(0).rgb();
        byte[] plain = fixture.pipeline.generate(request(null).build()).images().get(0).rgb();
        assertArrayEquals(plain, inpainted);
    }

    @Test
    void pixelsOutsideTheMaskAreTheInputsAndInsideTheyChange() {
        int s = photo.width();
        byte[] m = new byte[s * s];
        for (int i = 0; i < s * s / 2; i++) {
            m[i] = (byte) 255; // top half repaints
        }
        RgbImage out = fixture.pipeline.generate(request(masked(new GrayImage(s, s, m), null)).build())
                .images().get(0);
        int half = s * s / 2 * 3;
        for (int i = half; i < out.rgb().length; i++) {
            assertEquals(photo.rgb()[i], out.rgb()[i], "kept pixel byte " + i);
        }
        int changed = 0;
        for (int i = 0; i < half; i++) {
            changed += photo.rgb()[i] != out.rgb()[i] ? 1 : 0;
        }
        assertTrue(changed > half / 2, "the repainted half changed: " + changed + " of " + half);
        RgbImage raw = fixture.pipeline.generate(request(new ImageEdit(photo, new GrayImage(s, s, m), null, 0, false,
                null)).build()).images().get(0);
        assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOfRange(raw.rgb(), half, raw.rgb().length),
                java.util.Arrays.copyOfRange(photo.rgb(), half, photo.rgb().length)),
                "without paste-back the kept half is the VAE's decode");
    }

    @Test
    void outpaintingGrowsTheCanvasAndKeepsTheOriginal() {
        int s = photo.width();
        Padding pad = new Padding(2, 0, 4, 2);
        GenerationPlan plan = fixture.pipeline.plan(request(new ImageEdit(photo, null, null, 0, true, pad)).build());
        assertEquals(s + 6, plan.parameters().width());
        assertEquals(s + 2, plan.parameters().height());
        RgbImage out = fixture.pipeline.generate(plan, StepCallback.NONE, null).images().get(0);
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(photo.rgb()[(y * s + x) * 3 + c], out.rgb()[(y * out.width() + x + 2) * 3 + c]);
                }
            }
        }
    }

    @Test
    void anImageOfAnotherSizeIsFittedWithANote() {
        byte[] rgb = new byte[40 * 10 * 3];
        GenerationPlan plan = fixture.pipeline.plan(request(ImageEdit.img2img(new RgbImage(40, 10, rgb), 0.5))
                .build());
        assertEquals(fixture.pipeline.defaults().width(), plan.parameters().width());
        assertTrue(plan.notes().stream().anyMatch(n -> n.contains("the init image is 40x10; resized to")
                && n.contains("centre-cropped")), plan.notes().toString());
    }

    @Test
    void badEditsNameTheField() {
        int s = photo.width();
        assertField("strength", () -> ImageEdit.img2img(photo, 1.5));
        assertField("strength", () -> ImageEdit.img2img(photo, -0.1));
        assertField("mask", () -> masked(GrayImage.filled(s + 2, s, 0), 1.0));
        assertField("mask", () -> fixture.pipeline.plan(request(masked(GrayImage.filled(s, s, 128), 1.0)).build()));
        assertField("maskBlur", () -> new ImageEdit(photo, null, null, -1, true, null));
        assertField("outpaint", () -> Padding.parse("1,2,3"));
        assertField("outpaint", () -> new Padding(0, 0, 0, 0));
    }

    private static void assertField(String field, Runnable r) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, r::run);
        assertEquals(field, e.field(), e.getMessage());
    }

    @Test
    void aNineChannelInpaintingUnetReadsLatentsMaskAndMaskedImage() throws Exception {
        try (MicroPipelineFixture nine = new MicroPipelineFixture("mdx-inpaint9",
                TestModels::microInpaintingPipeline)) {
            TextToImagePipeline p = nine.pipeline;
            assertTrue(p.config().inpaintingUnet());
            int s = photo.width();
            assertField("mask", () -> p.plan(p.newRequest().prompt("a fox").build()));
            List<Shape> inputs = new ArrayList<>();
            PipelineTrace trace = new PipelineTrace() {
                @Override
                public void unetInput(int image, int step, NDArray input) {
                    inputs.add(input.getShape());
                }
            };
            GenerationPlan plan = p.plan(p.newRequest().prompt("a fox").steps(2).cfgScale(3).edit(masked(
                    GrayImage.filled(s, s, 255), 1.0)).build());
            GenerationResult r = p.generate(plan, RecordedNoise.NONE, trace);
            int f = p.config().vaeScaleFactor();
            // [uncond, cond] x [4 latent channels, 1 mask, 4 masked-image latent channels]
            assertEquals(new Shape(2, 9, s / f, s / f), inputs.get(0));
            assertEquals(s, r.images().get(0).width());
        }
    }
}
