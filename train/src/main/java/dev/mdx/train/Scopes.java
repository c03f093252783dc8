package dev.mdx.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * DJL puts a result in the manager of the array whose method made it; when that array is long-lived state, the
 * result is moved to the step's scope at once so it is freed with the step.
 */
final class Scopes {
    private Scopes() {}

    static NDArray own(NDManager scope, NDArray result) {
        result.attach(scope);
        return result;
    }
}
