package dev.mdx.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.pipeline.GrayImage;
import org.junit.jupiter.api.Test;

/** Canny on hand-made images whose edges are known. */
class CannyEdgesTest {
    private static GrayImage square(int size, int x0, int y0, int x1, int y1, int inside, int outside) {
        byte[] v = new byte[size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                v[y * size + x] = (byte) (x >= x0 && x < x1 && y >= y0 && y < y1 ? inside : outside);
            }
        }
        return new GrayImage(size, size, v);
    }

    @Test
    void aUniformImageHasNoEdges() {
        GrayImage edges = CannyEdges.DEFAULT.detect(GrayImage.filled(16, 16, 200));
        for (byte b : edges.values()) {
            assertEquals(0, b);
        }
    }

    @Test
    void aVerticalStepGivesOneThinLineOnTheStep() {
        int size = 20;
        byte[] v = new byte[size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 10; x < size; x++) {
                v[y * size + x] = (byte) 255;
            }
        }
        GrayImage edges = CannyEdges.DEFAULT.detect(new GrayImage(size, size, v));
        for (int y = 0; y < size; y++) {
            int count = 0;
            for (int x = 0; x < size; x++) {
                if (edges.at(x, y) == 255) {
                    count++;
                    assertTrue(x == 9 || x == 10, "edge at column " + x + " of row " + y);
                }
            }
            assertEquals(1, count, "row " + y + " has one edge pixel");
        }
    }

    @Test
    void aSquaresEdgesFollowItsBorderAndNothingElse() {
        GrayImage edges = CannyEdges.DEFAULT.detect(square(32, 8, 10, 24, 22, 230, 20));
        int on = 0;
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                if (edges.at(x, y) == 255) {
                    on++;
                    // within one pixel of the square's outline
                    boolean nearVertical = (Math.abs(x - 8) <= 1 || Math.abs(x - 23) <= 1) && y >= 9 && y <= 22;
                    boolean nearHorizontal = (Math.abs(y - 10) <= 1 || Math.abs(y - 21) <= 1) && x >= 7 && x <= 24;
                    assertTrue(nearVertical || nearHorizontal, "stray edge at " + x + "," + y);
                }
            }
        }
        // the outline is 2 * (16 + 12) pixels long; corners may be cut by the smoothing
        assertTrue(on >= 44 && on <= 64, "outline pixels " + on);
        // the middle of each side is found
        assertEquals(255, Math.max(edges.at(7, 16), Math.max(edges.at(8, 16), edges.at(9, 16))));
        assertEquals(255, Math.max(edges.at(16, 9), Math.max(edges.at(16, 10), edges.at(16, 11))));
    }

    @Test
    void aWeakStepIsBelowTheThresholdsAndAStrongOneIsNot() {
        assertEquals(0, count(CannyEdges.DEFAULT.detect(square(24, 6, 6, 18, 18, 110, 100))));
        assertTrue(count(CannyEdges.DEFAULT.detect(square(24, 6, 6, 18, 18, 180, 100))) > 30);
    }

    private static int count(GrayImage g) {
        int n = 0;
        for (byte b : g.values()) {
            n += b != 0 ? 1 : 0;
        }
        return n;
    }
}
