package dev.mdx.pipeline;

import java.util.List;

/**
 * Thrown by {@link TextToImagePipeline#generate} when a {@link StepCallback} cancelled the run. The images of the
 * batch that were finished before the cancel are kept; all native memory of the run is freed before this is thrown.
 */
public final class GenerationCancelledException extends RuntimeException {
    private final List<RgbImage> completedImages;
    private final int imageIndex;
    private final int step;

    public GenerationCancelledException(List<RgbImage> completedImages, int imageIndex, int imageCount, int step,
            int totalSteps) {
        super("generation cancelled at step " + (step + 1) + "/" + totalSteps
                + (imageCount > 1 ? " of image " + (imageIndex + 1) + "/" + imageCount : ""));
        this.completedImages = List.copyOf(completedImages);
        this.imageIndex = imageIndex;
        this.step = step;
    }

    /** The images of the batch finished before the cancel (image k has seed + k). */
    public List<RgbImage> completedImages() {
        return completedImages;
    }

    /** The image (0-based) that was being generated. */
    public int imageIndex() {
        return imageIndex;
    }

    /** The step (0-based) after which the run stopped. */
    public int step() {
        return step;
    }
}
