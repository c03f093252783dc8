package dev.mdx.control;

import dev.mdx.pipeline.GrayImage;
import java.util.ArrayDeque;

/**
 * Canny's edge detector (Canny 1986) on an 8-bit luminance image: Gaussian smoothing, Sobel gradients,
 * non-maximum suppression along the gradient direction and hysteresis between two thresholds. Thresholds are in
 * luminance per pixel (the image scaled to [0, 1]; the Sobel response divided by 8, its gain on a unit ramp), so
 * they mean the same at any image size. Borders are replicated.
 *
 * @param sigma the Gaussian's standard deviation in pixels (0: no smoothing)
 * @param low weak-edge threshold: kept only when connected (8-neighbourhood) to a strong edge
 * @param high strong-edge threshold
 */
public record CannyEdges(double sigma, double low, double high) {
    /** Settings that trace garment and emoji outlines at 32-64 px without picking up their textures. */
    public static final CannyEdges DEFAULT = new CannyEdges(1.0, 0.04, 0.10);

    public CannyEdges {
        if (!(sigma >= 0) || !(low > 0) || !(high >= low)) {
            throw new IllegalArgumentException("need sigma >= 0 and 0 < low <= high, got sigma " + sigma + ", low "
                    + low + ", high " + high);
        }
    }

    /** 255 on edge pixels, 0 elsewhere; the input's size. */
    public GrayImage detect(GrayImage luminance) {
        int w = luminance.width();
        int h = luminance.height();
        float[] img = new float[w * h];
        for (int i = 0; i < img.length; i++) {
            img[i] = (luminance.values()[i] & 0xff) / 255f;
        }
        float[] smooth = sigma > 0 ? gaussian(img, w, h, sigma) : img;
        float[] gx = new float[w * h];
        float[] gy = new float[w * h];
        float[] mag = new float[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float a = at(smooth, w, h, x - 1, y - 1);
                float b = at(smooth, w, h, x, y - 1);
                float c = at(smooth, w, h, x + 1, y - 1);
                float d = at(smooth, w, h, x - 1, y);
                float f = at(smooth, w, h, x + 1, y);
                float g = at(smooth, w, h, x - 1, y + 1);
                float k = at(smooth, w, h, x, y + 1);
                float l = at(smooth, w, h, x + 1, y + 1);
                float sx = (c + 2 * f + l - a - 2 * d - g) / 8f;
                float sy = (g + 2 * k + l - a - 2 * b - c) / 8f;
                gx[y * w + x] = sx;
                gy[y * w + x] = sy;
                mag[y * w + x] = (float) Math.hypot(sx, sy);
            }
        }
        float[] thin = suppressNonMaxima(mag, gx, gy, w, h);
        return new GrayImage(w, h, hysteresis(thin, w, h));
    }

    /** Keeps a pixel whose magnitude is a maximum along its gradient direction (quantised to 4 directions). */
    private static float[] suppressNonMaxima(float[] mag, float[] gx, float[] gy, int w, int h) {
        float[] out = new float[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                float m = mag[i];
                if (m == 0) {
                    continue;
                }
                double angle = Math.toDegrees(Math.atan2(gy[i], gx[i]));
                if (angle < 0) {
                    angle += 180;
                }
                int dx;
                int dy;
                if (angle < 22.5 || angle >= 157.5) {
                    dx = 1;
                    dy = 0;
                } else if (angle < 67.5) {
                    dx = 1;
                    dy = 1;
                } else if (angle < 112.5) {
                    dx = 0;
                    dy = 1;
                } else {
                    dx = -1;
                    dy = 1;
                }
                float ahead = at(mag, w, h, x + dx, y + dy);
                float behind = at(mag, w, h, x - dx, y - dy);
                // strictly above one neighbour and at least the other: a two-pixel plateau keeps one pixel
                if (m > ahead && m >= behind) {
                    out[i] = m;
                }
            }
        }
        return out;
    }

    private byte[] hysteresis(float[] thin, int w, int h) {
        byte[] out = new byte[w * h];
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int i = 0; i < thin.length; i++) {
            if (thin[i] >= high) {
                out[i] = (byte) 255;
                queue.add(i);
            }
        }
        while (!queue.isEmpty()) {
            int i = queue.poll();
            int x = i % w;
            int y = i / w;
            for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = x + dx;
                    int ny = y + dy;
                    if (nx < 0 || ny < 0 || nx >= w || ny >= h) {
                        continue;
                    }
                    int j = ny * w + nx;
                    if (out[j] == 0 && thin[j] >= low) {
                        out[j] = (byte) 255;
                        queue.add(j);
                    }
                }
            }
        }
        return out;
    }

    /** Separable Gaussian with radius ceil(3 sigma), replicated borders. */
    static float[] gaussian(float[] img, int w, int h, double sigma) {
        int r = (int) Math.ceil(3 * sigma);
        float[] k = new float[2 * r + 1];
        float sum = 0;
        for (int i = -r; i <= r; i++) {
            k[i + r] = (float) Math.exp(-i * i / (2 * sigma * sigma));
            sum += k[i + r];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        float[] rows = new float[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int i = -r; i <= r; i++) {
                    s += k[i + r] * at(img, w, h, x + i, y);
                }
                rows[y * w + x] = s;
            }
        }
        float[] out = new float[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int i = -r; i <= r; i++) {
                    s += k[i + r] * at(rows, w, h, x, y + i);
                }
                out[y * w + x] = s;
            }
        }
        return out;
    }

    private static float at(float[] v, int w, int h, int x, int y) {
        return v[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))];
    }
}
