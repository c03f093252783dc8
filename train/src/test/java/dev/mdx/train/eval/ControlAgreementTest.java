package dev.mdx.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mdx.pipeline.GrayImage;
import org.junit.jupiter.api.Test;

/** Edge F1 with tolerance and IoU on maps small enough to count by hand. */
class ControlAgreementTest {
    /** A 10x10 map with a vertical line at column x. */
    private static GrayImage line(int x) {
        byte[] v = new byte[100];
        for (int y = 0; y < 10; y++) {
            v[y * 10 + x] = (byte) 255;
        }
        return new GrayImage(10, 10, v);
    }

    @Test
    void edgeF1MatchesWithinTheToleranceOnly() {
        assertEquals(1.0, ControlAgreement.edgeF1(line(3), line(3), 2), 1e-12);
        assertEquals(1.0, ControlAgreement.edgeF1(line(3), line(5), 2), 1e-12);
        assertEquals(0.0, ControlAgreement.edgeF1(line(3), line(6), 2), 1e-12);
        // the reference's line found, plus a stray line as long: precision 1/2, recall 1, F1 2/3
        GrayImage both = line(3);
        byte[] v = both.values().clone();
        for (int y = 0; y < 10; y++) {
            v[y * 10 + 9] = (byte) 255;
        }
        assertEquals(2.0 / 3, ControlAgreement.edgeF1(line(3), new GrayImage(10, 10, v), 2), 1e-12);
        GrayImage empty = GrayImage.filled(10, 10, 0);
        assertEquals(1.0, ControlAgreement.edgeF1(empty, empty, 2), 1e-12);
        assertEquals(0.0, ControlAgreement.edgeF1(line(3), empty, 2), 1e-12);
    }

    @Test
    void iouCountsOverlapOverUnion() {
        // columns 3 and 4 against column 4: 10 / 20
        byte[] v = line(3).values().clone();
        for (int y = 0; y < 10; y++) {
            v[y * 10 + 4] = (byte) 255;
        }
        assertEquals(0.5, ControlAgreement.iou(new GrayImage(10, 10, v), line(4)), 1e-12);
        assertEquals(0.0, ControlAgreement.iou(line(1), line(2)), 1e-12);
    }
}
