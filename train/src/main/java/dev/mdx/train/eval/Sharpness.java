package dev.mdx.train.eval;

/**
 * High-frequency energy of an image: the variance of its 4-neighbour Laplacian (0 1 0 / 1 -4 1 / 0 1 0) over the
 * interior pixels, per channel and averaged over channels, on values in [-1, 1]. Blurry images (a one-step model's
 * average of the plausible images) score low; real images set the target. A plain Java loop: images are tiny.
 */
public final class Sharpness {
    private Sharpness() {}

    /** One (C, H, W) image, values in [-1, 1]. */
    public static double laplacianVariance(float[] chw, int channels, int height, int width) {
        if (chw.length != channels * height * width || height < 3 || width < 3) {
            throw new IllegalArgumentException("need a (C, H, W) image of at least 3x3, got " + chw.length
                    + " values for " + channels + "x" + height + "x" + width);
        }
        double total = 0;
        int plane = height * width;
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            double sumSq = 0;
            int n = 0;
            for (int y = 1; y < height - 1; y++) {
                for (int x = 1; x < width - 1; x++) {
                    int i = c * plane + y * width + x;
                    double lap = chw[i - width] + chw[i + width] + chw[i - 1] + chw[i + 1] - 4.0 * chw[i];
                    sum += lap;
                    sumSq += lap * lap;
                    n++;
                }
            }
            double mean = sum / n;
            total += sumSq / n - mean * mean;
        }
        return total / channels;
    }

    /** The mean over images of {@link #laplacianVariance}. */
    public static double mean(float[][] images, int channels, int height, int width) {
        double s = 0;
        for (float[] image : images) {
            s += laplacianVariance(image, channels, height, width);
        }
        return s / images.length;
    }
}
