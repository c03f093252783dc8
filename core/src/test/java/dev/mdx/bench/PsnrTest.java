package dev.mdx.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mdx.pipeline.RgbImage;
import org.junit.jupiter.api.Test;

class PsnrTest {
    @Test
    void matchesTheDefinition() {
        byte[] a = new byte[2 * 2 * 3];
        byte[] b = new byte[a.length];
        b[0] = 10; // one channel off by 10: MSE = 100 / 12
        double expected = 10 * Math.log10(255.0 * 255.0 / (100.0 / 12));
        assertEquals(expected, Psnr.of(new RgbImage(2, 2, a), new RgbImage(2, 2, b)), 1e-12);
        b[0] = (byte) 200; // unsigned bytes: 200, not -56
        assertEquals(10 * Math.log10(255.0 * 255.0 / (200.0 * 200.0 / 12)),
                Psnr.of(new RgbImage(2, 2, a), new RgbImage(2, 2, b)), 1e-12);
        assertEquals(Double.POSITIVE_INFINITY, Psnr.of(new RgbImage(2, 2, a), new RgbImage(2, 2, a.clone())));
        assertThrows(IllegalArgumentException.class, () -> Psnr.of(new RgbImage(2, 2, a), new RgbImage(1, 4, b)));
    }
}
