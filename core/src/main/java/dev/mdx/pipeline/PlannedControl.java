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
record PlannedControl(ControlAdapter adapter, Path file, GrayImage map, double scale, boolean extracted) {
    /**
     * The ControlNet extension's infotext value: the preprocessor ("none" for a ready map), the adapter's file name
     * without its extension, and the weight.
     */
    String infotextEntry() {
        String name = file.getFileName().toString().replaceFirst("\\.safetensors$", "");
        return "Module: " + (extracted ? adapter.config().condition().cliName() : "none") + ", Model: " + name
                + ", Weight: " + GenerationParameters.number(scale);
    }

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
