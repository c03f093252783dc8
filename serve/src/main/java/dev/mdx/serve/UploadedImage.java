package dev.mdx.serve;

import dev.mdx.pipeline.EditImages;
import dev.mdx.pipeline.RgbImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * An image sent in a request as base64 (A1111's init_images and mask; a {@code data:image/...;base64,} prefix is
 * accepted), decoded to 8-bit RGB within the server's limits: the encoded size is checked before decoding, and the
 * width and height are read from the header before any pixels, so a small file that claims a huge image (a
 * decompression bomb) is refused without being decoded.
 */
final class UploadedImage {
    private UploadedImage() {}

    static RgbImage decode(String param, String base64, long maxBytes, long maxPixels) {
        String data = base64.strip();
        if (data.startsWith("data:")) {
            int comma = data.indexOf(',');
            if (comma < 0 || !data.substring(0, comma).endsWith(";base64")) {
                throw ApiException.badRequest(param, param + " is a data URL without base64 data");
            }
            data = data.substring(comma + 1);
        }
        // base64 holds 3 bytes in 4 characters: check the size before decoding
        if ((long) data.length() / 4 * 3 > maxBytes) {
            throw ApiException.tooLarge(param, param + " is about " + data.length() / 4 * 3 + " bytes; this server"
                    + " takes images of at most " + maxBytes + " bytes");
        }
        byte[] bytes;
        try {
            // clients may wrap base64 in lines; anything else outside the alphabet is an error, not skipped
            bytes = Base64.getDecoder().decode(data.replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(param, param + " is not base64: " + e.getMessage());
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw ApiException.badRequest(param, param + " is not an image this server reads (PNG, JPEG, BMP,"
                        + " GIF)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w * h > maxPixels) {
                    throw ApiException.tooLarge(param, param + " is " + w + "x" + h + "; this server takes images of"
                            + " at most " + maxPixels + " pixels");
                }
                return EditImages.toRgb(reader.read(0));
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw ApiException.badRequest(param, param + " could not be decoded: " + e.getMessage());
        }
    }
}
