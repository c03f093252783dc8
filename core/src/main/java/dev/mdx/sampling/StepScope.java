package dev.mdx.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * The memory scope of one sampler step: the inputs are temporarily attached to a sub-manager of the sample's manager
 * so every intermediate lands there and is freed at close, while the results are moved to the sample's manager.
 */
final class StepScope implements AutoCloseable {
    private final NDManager target;
    private final NDManager scope;

    StepScope(NDArray sample, NDArray... inputs) {
        this.target = sample.getManager();
        this.scope = target.newSubManager();
        sample.tempAttach(scope);
        for (NDArray input : inputs) {
            if (input != null && input.getManager() != scope) {
                input.tempAttach(scope);
            }
        }
    }

    NDManager manager() {
        return scope;
    }

    /** Moves a result out of the scope into the manager the sample came from. */
    NDArray keep(NDArray result) {
        result.attach(target);
        return result;
    }

    @Override
    public void close() {
        scope.close();
    }
}
