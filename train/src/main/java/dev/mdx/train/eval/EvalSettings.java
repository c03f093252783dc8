package dev.mdx.train.eval;

import dev.mdx.MdxException;
import dev.mdx.tensor.Precision;
import dev.mdx.sampling.SamplerKind;
import java.nio.file.Path;

/**
 * What {@code mdx eval} evaluates and how: a request, so a value out of range is the requester's error (an
 * {@link MdxException} naming the field), as with a generation request.
 *
 * @param model a diffusers pipeline folder
 * @param dataset an {@code mdx data} set: prompts (canonical captions), labels and real images
 * @param clip a small-CLIP folder written by {@code mdx train clip} (its {@code clip/} subfolder)
 * @param classifier an {@code mdx train classifier} folder, or null
 * @param sampler the sampler, or null for the model's
 * @param steps sampling steps, or null for the model's (50; a distilled or UFOGen model's own count)
 * @param cfgScale classifier-free guidance scale, or null for the model's
 * @param seed seed of the first image; image i of a split uses seed + i
 * @param images generated images per split (fewer when a split is smaller)
 * @param batch images per CLIP or classifier forward pass
 * @param labelText how labels become CLIP text
 * @param out output folder (eval.json, eval.md, grid.png)
 * @param useStudent whether a step count that matches a student the model ships evaluates that student (as
 *     {@code mdx generate} does); false evaluates the base model at any step count
 * @param threads engine threads per operation, or null for the pipeline's choice per model size
 */
public record EvalSettings(Path model, Path dataset, Path clip, Path classifier, SamplerKind sampler, Integer steps,
        Double cfgScale, long seed, int images, int batch, LabelSet.LabelText labelText, Path out,
        boolean useStudent, Integer threads, Precision precision) {
    public static final int DEFAULT_IMAGES = 100;
    public static final int DEFAULT_BATCH = 64;

    public EvalSettings {
        if (steps != null && steps < 1) {
            throw new MdxException("steps must be at least 1, got " + steps);
        }
        if (images < 2) {
            throw new MdxException("images per split must be at least 2 (a Frechet distance needs two), "
                    + "got " + images);
        }
        if (batch < 1) {
            throw new MdxException("batch must be at least 1, got " + batch);
        }
    }
}
