package dev.mdx.bench;

import dev.mdx.pipeline.RgbImage;

/** Peak signal-to-noise ratio of two 8-bit images of one size: 10 log10(255^2 / MSE), infinite when equal. */
public final class Psnr {
    private Psnr() {}

    public static double of(RgbImage a, RgbImage b) {
        if (a.width() != b.width() || a.height() != b.height()) {
            throw new IllegalArgumentException("images of different sizes: " + a.width() + "x" + a.height() + " and "
                    + b.width() + "x" + b.height());
        }
        byte[] x = a.rgb();
        byte[] y = b.rgb();
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            int d = (x[i] & 0xff) - (y[i] & 0xff);
            sum += d * d;
        }
        double mse = sum / x.length;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(255.0 * 255.0 / mse);
    }
}
