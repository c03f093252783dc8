package dev.mdx.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.function.Supplier;

/**
 * Runs a block of computation in a child scope so that its intermediates are freed as soon as it returns; only
 * the result survives, in the manager of the first input. Without this a forward pass keeps every intermediate
 * until the caller's scope closes (16 GB for an SD-1.5 UNet at 64x64). Autograd still works: the engine keeps
 * the tensors backward needs alive by reference counting.
 */
public final class Scopes {
    private Scopes() {}

    /**
     * @param body computes the block; every input it calls methods on must be listed in {@code inputs}
     * @param inputs activations the block reads; they are lent to the child scope and given back unchanged
     */
    public static NDArray run(Supplier<NDArray> body, NDArray... inputs) {
        NDManager parent = inputs[0].getManager();
        try (NDManager child = parent.newSubManager()) {
            child.tempAttachAll(inputs);
            NDArray out = body.get();
            for (NDArray in : inputs) {
                if (in == out) {
                    return out; // an identity block: the input goes back to its owner on close
                }
            }
            out.attach(parent);
            return out;
        }
    }

    /**
     * Moves {@code result} into {@code scope}. DJL puts a result in the manager of the array whose method made it;
     * when that array is long-lived state (a weight, an optimizer moment), the result is moved to the step's scope
     * at once so it is freed with the step.
     */
    public static NDArray own(NDManager scope, NDArray result) {
        result.attach(scope);
        return result;
    }
}
