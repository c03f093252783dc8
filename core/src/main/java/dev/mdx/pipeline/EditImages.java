package dev.mdx.pipeline;

import dev.mdx.MdxException;
import java.awt.Graphics2D;
import java.awt.Image;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * The pixel work of editing: reading the image and mask files, fitting them to the request's size (resize to cover,
 * centre crop), growing the canvas for outpainting, and the masks' binary, latent and feathered forms.
 */
public final class EditImages {
    /** Larger files are refused before decoding: 64 megapixels. */
    static final long MAX_FILE_PIXELS = 64L << 20;
    /** diffusers binarises the mask at 0.5 after /255: 127 keeps, 128 repaints. */
    static final int MASK_THRESHOLD = 128;
    /** A mask is refused when more of its pixels than this are neither near black nor near white. */
    static final double MAX_GREY_FRACTION = 0.25;

    private EditImages() {}

    /** The RGB pixels of an image file (PNG, JPEG, BMP, GIF: what javax.imageio reads); alpha is dropped. */
    public static RgbImage readRgb(Path file, String what) {
        return toRgb(read(file, what));
    }

    /** 8-bit RGB of any image javax.imageio decodes (alpha dropped). */
    public static RgbImage toRgb(BufferedImage image) {
        return crop(image, 0, 0, image.getWidth(), image.getHeight());
    }

    /** A mask file as luminance (PIL's 'L': 299 R + 587 G + 114 B per mille), white = repaint. */
    public static GrayImage readMask(Path file) {
        return luminance(readRgb(file, "mask"));
    }

    /** An RGB image's luminance (PIL's 'L'), as a mask is read. */
    public static GrayImage luminance(RgbImage image) {
        byte[] rgb = image.rgb();
        byte[] out = new byte[image.width() * image.height()];
        for (int i = 0; i < out.length; i++) {
            int r = rgb[3 * i] & 0xff;
            int g = rgb[3 * i + 1] & 0xff;
            int b = rgb[3 * i + 2] & 0xff;
            out[i] = (byte) ((r * 299 + g * 587 + b * 114) / 1000);
        }
        return new GrayImage(image.width(), image.height(), out);
    }

    private static BufferedImage read(Path file, String what) {
        if (!Files.exists(file)) {
            throw new MdxException("the " + what + " " + file + " does not exist");
        }
        if (!Files.isRegularFile(file)) {
            throw new MdxException("the " + what + " " + file + " is not a file");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new MdxException("the " + what + " " + file + " is not an image mdx can read (PNG, JPEG, BMP,"
                        + " GIF)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_FILE_PIXELS) {
                    throw new MdxException("the " + what + " " + file + " is " + reader.getWidth(0) + "x"
                            + reader.getHeight(0) + ", more than the " + (MAX_FILE_PIXELS >> 20)
                            + " megapixels mdx reads");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof MdxException m) {
                throw m;
            }
            throw new MdxException("the " + what + " " + file + " cannot be read as an image: " + e.getMessage(), e);
        }
    }

    /** An image fitted to a size: scaled to cover it, then centre-cropped; the note says what was done, or null. */
    public record Fitted<T>(T image, String note) {}

    /** {@code image} scaled to cover w x h and centre-cropped to it (unchanged when it has that size). */
    public static Fitted<RgbImage> fit(RgbImage image, int w, int h, String what) {
        if (image.width() == w && image.height() == h) {
            return new Fitted<>(image, null);
        }
        Geometry g = Geometry.cover(image.width(), image.height(), w, h);
        BufferedImage scaled = scale(toBuffered(image), g.scaledWidth, g.scaledHeight);
        RgbImage out = crop(scaled, g.cropX, g.cropY, w, h);
        return new Fitted<>(out, g.note(what, image.width(), image.height(), w, h));
    }

    /** A mask fitted as {@link #fit(RgbImage, int, int, String)} fits its image. */
    public static GrayImage fit(GrayImage mask, int w, int h) {
        if (mask.width() == w && mask.height() == h) {
            return mask;
        }
        byte[] rgb = new byte[mask.values().length * 3];
        for (int i = 0; i < mask.values().length; i++) {
            rgb[3 * i] = mask.values()[i];
            rgb[3 * i + 1] = mask.values()[i];
            rgb[3 * i + 2] = mask.values()[i];
        }
        return luminance(fit(new RgbImage(mask.width(), mask.height(), rgb), w, h, "mask").image());
    }

    /** The scale-and-crop that makes an image cover a target size. */
    private record Geometry(int scaledWidth, int scaledHeight, int cropX, int cropY) {
        static Geometry cover(int w0, int h0, int w, int h) {
            double scale = Math.max((double) w / w0, (double) h / h0);
            int sw = Math.max(w, (int) Math.round(w0 * scale));
            int sh = Math.max(h, (int) Math.round(h0 * scale));
            return new Geometry(sw, sh, (sw - w) / 2, (sh - h) / 2);
        }

        String note(String what, int w0, int h0, int w, int h) {
            boolean cropped = scaledWidth != w || scaledHeight != h;
            return "the " + what + " is " + w0 + "x" + h0 + "; resized to " + scaledWidth + "x" + scaledHeight
                    + (cropped ? " and centre-cropped to " + w + "x" + h + " (its aspect ratio differs)" : "");
        }
    }

    private static BufferedImage toBuffered(RgbImage image) {
        BufferedImage b = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_INT_RGB);
        byte[] rgb = image.rgb();
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                int o = (y * image.width() + x) * 3;
                b.setRGB(x, y, (rgb[o] & 0xff) << 16 | (rgb[o + 1] & 0xff) << 8 | rgb[o + 2] & 0xff);
            }
        }
        return b;
    }

    /** Area averaging when shrinking (no aliasing), bicubic when growing. */
    private static BufferedImage scale(BufferedImage source, int w, int h) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            if (w < source.getWidth() || h < source.getHeight()) {
                g.drawImage(source.getScaledInstance(w, h, Image.SCALE_AREA_AVERAGING), 0, 0, null);
            } else {
                g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
                g.drawImage(source, 0, 0, w, h, null);
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    private static RgbImage crop(BufferedImage image, int x0, int y0, int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = image.getRGB(x0 + x, y0 + y);
                int o = (y * w + x) * 3;
                rgb[o] = (byte) (p >> 16);
                rgb[o + 1] = (byte) (p >> 8);
                rgb[o + 2] = (byte) p;
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** The image on a canvas grown by {@code pad}, the new border filled by repeating the nearest edge pixel. */
    public static RgbImage extend(RgbImage image, Padding pad) {
        int w = image.width() + pad.left() + pad.right();
        int h = image.height() + pad.top() + pad.bottom();
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            int sy = Math.min(Math.max(y - pad.top(), 0), image.height() - 1);
            for (int x = 0; x < w; x++) {
                int sx = Math.min(Math.max(x - pad.left(), 0), image.width() - 1);
                System.arraycopy(image.rgb(), (sy * image.width() + sx) * 3, rgb, (y * w + x) * 3, 3);
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** White on the border {@code pad} adds around an image of w x h, black over the image. */
    public static GrayImage borderMask(int w, int h, Padding pad) {
        int cw = w + pad.left() + pad.right();
        int ch = h + pad.top() + pad.bottom();
        byte[] v = new byte[cw * ch];
        for (int y = 0; y < ch; y++) {
            for (int x = 0; x < cw; x++) {
                boolean inside = x >= pad.left() && x < pad.left() + w && y >= pad.top() && y < pad.top() + h;
                v[y * cw + x] = (byte) (inside ? 0 : 255);
            }
        }
        return new GrayImage(cw, ch, v);
    }

    /**
     * Refuses a mask that is mostly grey: white marks what to repaint and black what to keep, so a mask whose pixels
     * are mostly in between (a photo given as the mask, say) cannot mean either.
     */
    static void requireBlackAndWhite(GrayImage mask) {
        int grey = 0;
        for (byte b : mask.values()) {
            int v = b & 0xff;
            if (v > 32 && v < 223) {
                grey++;
            }
        }
        double fraction = (double) grey / mask.values().length;
        if (fraction > MAX_GREY_FRACTION) {
            throw new InvalidRequestException("mask", String.format(java.util.Locale.ROOT, "is mostly grey (%.0f%% of"
                    + " its pixels are neither black nor white): paint the area to repaint white (255) and the rest"
                    + " black (0); soften the edge with the mask blur instead", 100 * fraction));
        }
    }

    /** 1 where the mask repaints (value >= 128), else 0, H x W. */
    static float[] binary(GrayImage mask) {
        float[] out = new float[mask.values().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (mask.values()[i] & 0xff) >= MASK_THRESHOLD ? 1f : 0f;
        }
        return out;
    }

    /**
     * The binary mask at latent size by nearest sampling, as torch's interpolate(mode='nearest'):
     * m[i, j] = mask[floor(i H / h), floor(j W / w)].
     */
    static float[] nearest(float[] mask, int w, int h, int lw, int lh) {
        float[] out = new float[lw * lh];
        for (int i = 0; i < lh; i++) {
            int y = (int) Math.floor((double) i * h / lh);
            for (int j = 0; j < lw; j++) {
                out[i * lw + j] = mask[y * w + (int) Math.floor((double) j * w / lw)];
            }
        }
        return out;
    }

    /**
     * How much of the generated image shows at each pixel when pasted over the original: the binary mask, feathered
     * over {@code blur} pixels inside its edge (two box blurs, close to a Gaussian) and 0 everywhere outside, so
     * the pixels the mask keeps stay exactly the input's.
     */
    static float[] pasteAlpha(float[] mask, int w, int h, int blur) {
        if (blur == 0) {
            return mask.clone();
        }
        int r = Math.max(1, blur / 2);
        float[] a = boxBlur(boxBlur(mask, w, h, r), w, h, r);
        for (int i = 0; i < a.length; i++) {
            a[i] = mask[i] == 0 ? 0 : Math.min(1f, a[i]);
        }
        return a;
    }

    /** A box blur of radius r over rows, then over columns; edges repeat the border value. */
    private static float[] boxBlur(float[] v, int w, int h, int r) {
        return boxBlurLines(boxBlurLines(v, w, h, 1, w, r), h, w, w, 1, r);
    }

    /**
     * A box blur along lines of {@code length} values {@code step} apart; the lines start {@code lineStep} apart.
     */
    private static float[] boxBlurLines(float[] v, int length, int lines, int step, int lineStep, int r) {
        float[] out = new float[v.length];
        for (int line = 0; line < lines; line++) {
            int base = line * lineStep;
            for (int i = 0; i < length; i++) {
                float s = 0;
                for (int d = -r; d <= r; d++) {
                    s += v[base + Math.min(Math.max(i + d, 0), length - 1) * step];
                }
                out[base + i * step] = s / (2 * r + 1);
            }
        }
        return out;
    }

    /** (3, H, W) floats in [-1, 1] exactly as diffusers' image processor computes them: v / 255 * 2 - 1 in float32. */
    static float[] signedPixels(RgbImage image) {
        int hw = image.width() * image.height();
        float[] out = new float[3 * hw];
        byte[] rgb = image.rgb();
        for (int p = 0; p < hw; p++) {
            for (int c = 0; c < 3; c++) {
                out[c * hw + p] = (rgb[p * 3 + c] & 0xff) / 255f * 2f - 1f;
            }
        }
        return out;
    }

    /** generated where alpha is 1, original where it is 0, rounded blends between. */
    static RgbImage paste(RgbImage original, RgbImage generated, float[] alpha) {
        byte[] o = original.rgb();
        byte[] g = generated.rgb();
        byte[] out = new byte[o.length];
        for (int i = 0; i < alpha.length; i++) {
            float a = alpha[i];
            for (int c = 0; c < 3; c++) {
                int k = 3 * i + c;
                out[k] = a == 0 ? o[k] : a == 1 ? g[k]
                        : (byte) Math.round((o[k] & 0xff) * (1 - a) + (g[k] & 0xff) * a);
            }
        }
        return new RgbImage(original.width(), original.height(), out);
    }
}
