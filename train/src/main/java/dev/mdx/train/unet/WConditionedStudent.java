package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.nn.Parameter;
import dev.mdx.unet.UNet2DConditionModel;
import java.util.Map;

/**
 * The start of a w-conditioned student (Meng et al.'s guidance distillation in LCM's form): the teacher's UNet with
 * {@code time_embedding.cond_proj} added (time_cond_proj_dim = the guidance embedding's width) and set to ZERO, so
 * that before training it computes exactly the teacher's conditional output at every w.
 */
final class WConditionedStudent {
    static final String COND_PROJ_KEY = "time_embedding.cond_proj.weight";

    private WConditionedStudent() {}

    /** A new UNet whose weights are copies (in {@code weights}) of the teacher's, plus a zero cond_proj. */
    static UNet2DConditionModel fromTeacher(UNet2DConditionModel teacher, int guidanceEmbeddingDim,
            NDManager weights) {
        if (teacher.config().hasTimeCondProj()) {
            throw new IllegalArgumentException("the teacher already takes the guidance scale as an input"
                    + " (time_cond_proj_dim " + teacher.config().timeCondProjDim() + "); its student is a plain copy");
        }
        UNet2DConditionModel student = UNet2DConditionModel.fromConfig(
                teacher.config().withTimeCondProjDim(guidanceEmbeddingDim));
        Map<String, Parameter> from = teacher.namedParameters();
        student.namedParameters().forEach((key, p) -> {
            NDArray value = key.equals(COND_PROJ_KEY) ? weights.zeros(p.shape()) : from.get(key).get().duplicate();
            value.attach(weights);
            p.set(value);
        });
        return student;
    }
}
