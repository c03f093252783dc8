package dev.mdx.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.nn.GuidanceEmbedding;
import dev.mdx.nn.Probe;
import java.util.Objects;

/**
 * A UNet's guided prediction, the one place that combines its passes: classifier-free guidance (Ho and Salimans
 * 2022; diffusers' StableDiffusionPipeline) out = out(uncond) + w (out(c) - out(uncond)), both halves in one UNet
 * batch, or, for a UNet that reads the scale as an input, one pass with the embedding of (w - 1) (diffusers'
 * LatentConsistencyModelPipeline). The mix is linear in the model's output, so it guides eps, v and x0 alike. Used
 * by the sampling loop and by the distillation loss, so inference and training guide identically.
 */
public final class GuidedDenoiser {
    private final UNet2DConditionModel unet;
    /** The scale embedding of a UNet with {@code time_cond_proj_dim}, else null. */
    private final GuidanceEmbedding embedding;

    public GuidedDenoiser(UNet2DConditionModel unet) {
        this.unet = Objects.requireNonNull(unet, "unet");
        Integer dim = unet.config().timeCondProjDim();
        this.embedding = dim == null ? null : new GuidanceEmbedding(dim);
    }

    public UNet2DConditionModel unet() {
        return unet;
    }

    /** The guidance this UNet runs at {@code scale}. */
    public Guidance guidanceAt(double scale) {
        return Guidance.of(unet.config(), scale);
    }

    /**
     * One guided prediction, in the manager of {@code z}.
     *
     * @param input what the UNet was fed: z, or [z, z] with classifier-free guidance
     * @param unconditional the unconditional half with classifier-free guidance, else null
     * @param conditional the output on the prompt at scale 1 (for an embedded UNet only when asked for), else null
     * @param guided the guided output
     */
    public record Prediction(NDArray input, NDArray unconditional, NDArray conditional, NDArray guided) {}

    /**
     * @param guidance how to guide; {@link Guidance#EMBEDDED} exactly when the UNet reads the scale
     * @param z (B, C, h, w) latents (already scaled for the model input)
     * @param timesteps (B) or (1) timesteps
     * @param cond (B, L, D) prompt features
     * @param uncond (B, L, D) negative-prompt features for classifier-free guidance, else ignored (may be null)
     * @param scales guidance scale per example (B); ignored without guidance
     * @param withConditional for an embedded UNet, also compute the output at scale 1 in the same batch of 2B (the
     *     distillation loss's L_ori); the other kinds have it anyway
     */
    public Prediction predict(Guidance guidance, NDArray z, NDArray timesteps, NDArray cond, NDArray uncond,
            double[] scales, boolean withConditional) {
        return predict(guidance, z, timesteps, cond, uncond, scales, withConditional, null);
    }

    /**
     * As {@link #predict(Guidance, NDArray, NDArray, NDArray, NDArray, double[], boolean)} with a control adapter's
     * features in every pass (both halves of classifier-free guidance, as diffusers' T2I-Adapter pipeline does).
     *
     * @param control the adapter's features, already scaled, of batch B or 1; null for none
     */
    public Prediction predict(Guidance guidance, NDArray z, NDArray timesteps, NDArray cond, NDArray uncond,
            double[] scales, boolean withConditional, ControlResiduals control) {
        boolean embedded = embedding != null;
        if ((guidance == Guidance.EMBEDDED) != embedded) {
            throw new IllegalArgumentException(guidance + " guidance on a UNet " + (embedded ? "with" : "without")
                    + " a guidance input");
        }
        int batch = Math.toIntExact(z.getShape().get(0));
        NDManager scope = z.getManager();
        switch (guidance) {
            case NONE -> {
                NDArray out = unet.forward(z, timesteps, cond, null, control, Probe.off());
                return new Prediction(z, null, out, out);
            }
            case CLASSIFIER_FREE -> {
                Objects.requireNonNull(uncond, "classifier-free guidance needs the unconditional features");
                // (B, C, h, w) -> (2B, C, h, w): [uncond, cond] share one UNet batch
                NDArray input = twice(z, z);
                NDArray both = unet.forward(input, twiceIfPerExample(timesteps), twice(uncond, cond), null,
                        twiceIfPerExample(control), Probe.off());
                NDList halves = both.split(2, 0);
                NDArray u = halves.get(0);
                NDArray c = halves.get(1);
                NDArray guided = u.add(c.sub(u).mul(perExample(scope, scales, batch)));
                return new Prediction(input, u, c, guided);
            }
            case EMBEDDED -> {
                // (B, D): the embedding of each example's scale - 1
                checkScales(scales, batch);
                NDArray w = embedding.ofScales(scales, scope);
                if (!withConditional) {
                    return new Prediction(z, null, null, unet.forward(z, timesteps, cond, w, control, Probe.off()));
                }
                // [z at w, z at 1]: (2B, C, h, w) with (2B, D) embeddings
                NDArray input = twice(z, z);
                NDArray both = unet.forward(input, twiceIfPerExample(timesteps), twice(cond, cond),
                        twice(w, embedding.unguided(batch, scope)), twiceIfPerExample(control), Probe.off());
                NDList halves = both.split(2, 0);
                return new Prediction(input, null, halves.get(1), halves.get(0));
            }
            default -> throw new IllegalStateException(guidance.toString());
        }
    }

    private static NDArray twice(NDArray first, NDArray second) {
        return NDArrays.concat(new NDList(first, second), 0);
    }

    /** Per-example timesteps are doubled with the batch; a single one is broadcast by the UNet. */
    private static NDArray twiceIfPerExample(NDArray timesteps) {
        return timesteps.size() == 1 ? timesteps : twice(timesteps, timesteps);
    }

    /** Per-example residuals are doubled with the batch; a batch of 1 is broadcast by the UNet's addition. */
    private static ControlResiduals twiceIfPerExample(ControlResiduals control) {
        if (control == null || control.down().get(0).getShape().get(0) == 1) {
            return control;
        }
        return new ControlResiduals(control.down().stream().map(r -> twice(r, r)).toList(),
                control.mid() == null ? null : twice(control.mid(), control.mid()));
    }

    /** (B, 1, 1, 1) float32 scales. */
    private static NDArray perExample(NDManager scope, double[] scales, int batch) {
        checkScales(scales, batch);
        float[] f = new float[batch];
        for (int i = 0; i < batch; i++) {
            f[i] = (float) scales[i];
        }
        return scope.create(f, new Shape(batch, 1, 1, 1));
    }

    private static void checkScales(double[] scales, int batch) {
        if (scales == null || scales.length != batch) {
            throw new IllegalArgumentException("need one guidance scale per example (" + batch + "), got "
                    + (scales == null ? "none" : scales.length));
        }
    }
}
