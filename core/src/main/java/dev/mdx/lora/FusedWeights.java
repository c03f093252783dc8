package dev.mdx.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.nn.Module;
import dev.mdx.nn.Parameter;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * LoRAs merged into one model's weights, and the way back. Fusing computes, in float32 and in diffusers' order,
 * {@code W' = W + scale * (((up * alpha) / rank) @ down)} for each LoRA in turn, and points each parameter at a new
 * array; the original arrays are kept untouched, so {@link #restore()} gives back exactly the weights that were
 * there (bit for bit, nothing is subtracted). A fused LoRA costs nothing per step.
 */
public final class FusedWeights {
    /** The arrays the parameters held before fusing. */
    private final Map<Parameter, NDArray> originals;
    private final NDManager fused;
    private boolean restored;

    private FusedWeights(Map<Parameter, NDArray> originals, NDManager fused) {
        this.originals = originals;
        this.fused = fused;
    }

    /**
     * Merges the {@code part} layers of every entry into {@code model}'s weights; the new arrays belong to a child of
     * {@code parent}. Either every layer is fused or, on failure, none.
     *
     * @throws LoraException when a file changed since it was bound
     */
    public static FusedWeights fuse(Module model, LoraPart part, List<LoraSet.Entry> entries, NDManager parent) {
        Map<String, Parameter> params = model.namedParameters();
        Map<Parameter, NDArray> originals = new IdentityHashMap<>();
        NDManager fused = parent.newSubManager();
        try {
            for (LoraSet.Entry entry : entries) {
                List<BoundLora.Delta> deltas = entry.lora().deltas(part);
                if (deltas.isEmpty() || entry.scale() == 0) {
                    continue;
                }
                LoraFile file = entry.lora().file();
                file.requireUnchanged();
                try (SafeTensorsFile st = SafeTensorsFile.open(file.path());
                        NDManager scratch = fused.newSubManager()) {
                    for (BoundLora.Delta d : deltas) {
                        Parameter p = params.get(d.weightKey());
                        if (p == null || !p.shape().equals(d.weightShape())) {
                            throw new IllegalStateException("LoRA bound to another model: " + d.weightKey());
                        }
                        NDArray current = p.get();
                        originals.putIfAbsent(p, current);
                        // delta + W equals W + delta exactly; this order keeps the sum in the scratch scope
                        NDArray next = delta(st, d, entry.scale(), scratch).add(current);
                        next.attach(fused);
                        if (current != originals.get(p)) {
                            current.close();
                        }
                        p.set(next);
                    }
                }
            }
        } catch (RuntimeException e) {
            originals.forEach(Parameter::set);
            fused.close();
            throw e;
        }
        return new FusedWeights(originals, fused);
    }

    /** {@code scale * (((up * alpha) / rank) @ down)} in the weight's shape, in {@code scratch}. */
    static NDArray delta(SafeTensorsFile st, BoundLora.Delta d, double scale, NDManager scratch) {
        NDArray up = st.load(d.upKey(), scratch, DataType.FLOAT32).reshape(d.weightShape().get(0), d.rank());
        NDArray down = st.load(d.downKey(), scratch, DataType.FLOAT32).reshape(d.rank(), -1);
        if (d.alpha() != null) {
            up = up.mul(d.alpha()).div((float) d.rank());
        }
        return up.matMul(down).reshape(d.weightShape()).mul((float) scale);
    }

    /** Weights this fusion changed. */
    public int layerCount() {
        return originals.size();
    }

    /** Points every changed parameter back at its original array and frees the fused ones. Idempotent. */
    public void restore() {
        if (restored) {
            return;
        }
        restored = true;
        originals.forEach(Parameter::set);
        fused.close();
    }
}
