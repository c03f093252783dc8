package dev.mdx.pipeline;

/**
 * Receives each image of a batch as soon as it is decoded, on the generating thread, so a caller can write it
 * before the next one starts (a long batch interrupted after k images has k files). Images given to a callback are
 * not also kept in the {@link GenerationResult}, so a long batch holds one image at a time. An exception thrown
 * here ends the run and propagates as it is.
 */
@FunctionalInterface
public interface ImageCallback {
    /**
     * @param index the image's place in the batch (0-based); its seed is {@code parameters.seedOf(index)}
     * @param image the image
     * @param parameters what the batch ran with; {@code parameters.infotext(index)} is the image's A1111 text
     */
    void onImage(int index, RgbImage image, GenerationParameters parameters);
}
