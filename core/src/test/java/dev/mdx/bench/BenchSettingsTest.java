package dev.mdx.bench;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.MdxException;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchSettingsTest {
    private static BenchSettings settings(List<String> components, int imageSize) {
        return new BenchSettings(components, 4, imageSize, List.of(1), 1, 0, 1, true, null, null);
    }

    @Test
    void valuesThatCannotBeTimedAreUserErrors() {
        List<String> all = BenchSettings.COMPONENTS;
        List<Runnable> bad = List.of(
                () -> new BenchSettings(all, 4, 16, List.of(1), 1, 0, 0, true, null, null),
                () -> new BenchSettings(all, 4, 16, List.of(1), 1, -1, 1, true, null, null),
                () -> new BenchSettings(all, 0, 16, List.of(1), 1, 0, 1, true, null, null),
                () -> new BenchSettings(all, 4, 0, List.of(1), 1, 0, 1, true, null, null),
                () -> new BenchSettings(all, 4, 16, List.of(1), 0, 0, 1, true, null, null),
                () -> new BenchSettings(all, 4, 16, List.of(1, 0), 1, 0, 1, true, null, null));
        for (Runnable r : bad) {
            assertThrows(MdxException.class, r::run);
        }
        MdxException e = assertThrows(MdxException.class, () -> settings(List.of("unet", "gpu"), 16));
        assertEquals("unknown component 'gpu' (text, unet, vae, train, e2e)", e.getMessage());
        assertThrows(MdxException.class, () -> new BenchSettings(all, 4, 16, List.of(1), 1, 0, 1, true, null, null,
                List.of(1, 0), false, true, dev.mdx.tensor.Precision.FP32), "a step count of 0");
    }

    @Test
    void aPresetMustBeShippedAndItsVaeMustDecodeTheImageSize() {
        MdxException unknown = assertThrows(MdxException.class,
                () -> settings(List.of("unet"), 16).checkPreset("nope"));
        assertTrue(unknown.getMessage().contains("unknown preset 'nope'"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("mobilediffusion-tiny"), "names the presets: " + unknown.getMessage());

        MdxException size = assertThrows(MdxException.class,
                () -> settings(List.of("vae"), 13).checkPreset("mobilediffusion-tiny"));
        assertEquals("image size 13 is not a multiple of mobilediffusion-tiny's VAE factor 4", size.getMessage());
        assertDoesNotThrow(() -> settings(List.of("vae"), 16).checkPreset("mobilediffusion-tiny"));
        assertDoesNotThrow(() -> settings(List.of("unet"), 13).checkPreset("mobilediffusion-tiny"),
                "no VAE is timed, so the image size does not matter");
    }
}
