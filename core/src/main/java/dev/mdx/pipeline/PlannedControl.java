package dev.mdx.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.control.ControlAdapter;
import dev.mdx.unet.ControlResiduals;
import java.nio.file.Path;

/**
 * A request's control resolved against the model: the adapter that fits its UNet, the condition map at the output
 * size and the scale.
 */
record PlannedControl(ControlAdapter adapter, Path file, GrayImage map, double scale) {
    /** The adapter's scaled features for the map, batch 1, in {@code scope}: computed once per run. */
    ControlResiduals residuals(NDManager scope) {
        byte[] v = map.values();
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (v[i] & 0xff) / 255f;
        }
        NDArray condition = scope.create(f, new Shape(1, 1, map.height(), map.width()));
        return adapter.forward(condition).scaled(scale);
    }
}
