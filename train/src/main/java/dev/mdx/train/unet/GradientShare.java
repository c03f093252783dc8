package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.mdx.nn.Parameter;
import dev.mdx.tensor.Scopes;
import java.util.Collection;

/**
 * Measures, inside the trainer's gradient collector and before its own backward pass, the L2 norm of the gradient
 * that each term of a sum puts on a set of parameters: one extra backward per term with the graph retained, the
 * norm read, and the gradients zeroed again, so the trainer's backward of the whole loss then sees exactly what it
 * would have without the probe. (DJL's collector has no retain-graph backward, hence the engine call.)
 */
final class GradientShare {
    private GradientShare() {}

    /** ||d term / d params||: {@code term} must be a scalar on the graph of the step's loss. */
    static double norm(NDArray term, Collection<Parameter> params, NDManager scope) {
        NDArray ones = Scopes.own(scope, term.onesLike());
        JniUtils.backward((PtNDArray) term, (PtNDArray) ones, true, false);
        double sq = 0;
        for (Parameter p : params) {
            NDArray w = p.get();
            if (!w.hasGradient()) {
                continue;
            }
            NDArray g = Scopes.own(scope, w.getGradient());
            sq += g.square().sum().toFloatArray()[0];
            JniUtils.zeroGrad((PtNDArray) w);
        }
        return Math.sqrt(sq);
    }
}
