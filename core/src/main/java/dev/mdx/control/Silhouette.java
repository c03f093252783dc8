package dev.mdx.control;

import dev.mdx.pipeline.GrayImage;
import dev.mdx.pipeline.RgbImage;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The silhouette of the object in a product-style image (one object on a plain background): the background colour
 * is the per-channel median of the border pixels; background is every pixel within {@code tolerance} of it (in each
 * channel) that connects to the border through such pixels (4-neighbourhood); the silhouette is everything else, so
 * a dark hole inside a garment stays inside it.
 *
 * @param tolerance largest per-channel difference from the background colour, in [0, 255]
 */
public record Silhouette(int tolerance) {
    public static final Silhouette DEFAULT = new Silhouette(24);

    public Silhouette {
        if (tolerance < 0 || tolerance > 255) {
            throw new IllegalArgumentException("tolerance must be in [0, 255], got " + tolerance);
        }
    }

    /** 255 inside the silhouette, 0 on the background; the image's size. */
    public GrayImage of(RgbImage image) {
        int w = image.width();
        int h = image.height();
        byte[] rgb = image.rgb();
        int[] background = borderMedian(rgb, w, h);
        boolean[] reached = new boolean[w * h];
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                boolean border = x == 0 || y == 0 || x == w - 1 || y == h - 1;
                int i = y * w + x;
                if (border && near(rgb, i, background)) {
                    reached[i] = true;
                    queue.add(i);
                }
            }
        }
        int[][] steps = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
        while (!queue.isEmpty()) {
            int i = queue.poll();
            int x = i % w;
            int y = i / w;
            for (int[] s : steps) {
                int nx = x + s[0];
                int ny = y + s[1];
                if (nx < 0 || ny < 0 || nx >= w || ny >= h) {
                    continue;
                }
                int j = ny * w + nx;
                if (!reached[j] && near(rgb, j, background)) {
                    reached[j] = true;
                    queue.add(j);
                }
            }
        }
        byte[] out = new byte[w * h];
        for (int i = 0; i < out.length; i++) {
            out[i] = reached[i] ? 0 : (byte) 255;
        }
        return new GrayImage(w, h, out);
    }

    private boolean near(byte[] rgb, int i, int[] colour) {
        for (int c = 0; c < 3; c++) {
            if (Math.abs((rgb[3 * i + c] & 0xff) - colour[c]) > tolerance) {
                return false;
            }
        }
        return true;
    }

    private static int[] borderMedian(byte[] rgb, int w, int h) {
        int n = h == 1 || w == 1 ? w * h : 2 * w + 2 * (h - 2);
        int[][] values = new int[3][n];
        int k = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (x == 0 || y == 0 || x == w - 1 || y == h - 1) {
                    for (int c = 0; c < 3; c++) {
                        values[c][k] = rgb[3 * (y * w + x) + c] & 0xff;
                    }
                    k++;
                }
            }
        }
        int[] median = new int[3];
        for (int c = 0; c < 3; c++) {
            int[] v = Arrays.copyOf(values[c], k);
            Arrays.sort(v);
            median[c] = v[k / 2];
        }
        return median;
    }
}
