package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.lora.KohyaLoraWriter;
import dev.mdx.lora.LoraPart;
import dev.mdx.lora.LoraTargets;
import dev.mdx.nn.Module;
import dev.mdx.nn.Parameter;
import dev.mdx.tensor.Ops;
import dev.mdx.tensor.Scopes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The trainable LoRA layers for some layers of a frozen model, as a module whose state-dict keys are kohya's
 * ({@code lora_unet_<path>.lora_down.weight}, {@code .lora_up.weight}), so checkpoints are LoRA-sized and the export
 * is the file every engine loads. Training patches each targeted weight with
 * {@code W + (alpha / rank) * up @ down} for the length of one forward pass ({@link #patch}); the frozen arrays are
 * never written to.
 */
public final class LoraNetwork extends Module {
    /** One LoRA layer: down (rank, fanIn...) and up (out, rank[, 1, 1]) for the target's weight. */
    private static final class Layer extends Module {
        final LoraTargets.Target target;
        final Parameter down;
        final Parameter up;

        Layer(LoraTargets.Target target, int rank) {
            this.target = target;
            Shape w = target.weightShape();
            this.down = child("lora_down", new Weight(target.conv() ? new long[] {rank, w.get(1), w.get(2), w.get(3)}
                    : new long[] {rank, w.get(1)})).weight;
            this.up = child("lora_up", new Weight(target.conv() ? new long[] {w.get(0), rank, 1, 1}
                    : new long[] {w.get(0), rank})).weight;
        }
    }

    /** A module holding one parameter named {@code weight}. */
    private static final class Weight extends Module {
        final Parameter weight;

        Weight(long[] shape) {
            this.weight = parameter("weight", shape);
        }
    }

    private final LoraPart part;
    private final int rank;
    private final float alpha;
    private final List<Layer> layers = new ArrayList<>();

    /**
     * @param targets the model's LoRA-able layers
     * @param paths the module paths to train, in the model's order
     */
    public LoraNetwork(LoraTargets targets, List<String> paths, int rank, float alpha) {
        if (rank < 1) {
            throw new IllegalArgumentException("rank must be at least 1, got " + rank);
        }
        this.part = targets.part();
        this.rank = rank;
        this.alpha = alpha;
        for (String path : paths) {
            LoraTargets.Target t = targets.byPath(path);
            if (t == null) {
                throw new IllegalArgumentException("no LoRA-able layer " + path);
            }
            layers.add(child(KohyaLoraWriter.prefix(part, path), new Layer(t, rank)));
        }
    }

    /** kohya's start: down uniform in +-1/sqrt(fanIn), up zero, so training starts from the base model exactly. */
    public void initialize(NDManager manager, long seed) {
        Random rng = new Random(seed);
        for (Layer l : layers) {
            Shape s = l.down.shape();
            float bound = (float) (1 / Math.sqrt(l.target.fanIn()));
            float[] values = new float[Math.toIntExact(s.size())];
            for (int i = 0; i < values.length; i++) {
                values[i] = (rng.nextFloat() * 2 - 1) * bound;
            }
            NDArray aliased = manager.create(values, s);
            l.down.set(aliased.duplicate());
            aliased.close();
            l.up.set(manager.zeros(l.up.shape()));
        }
    }

    public int rank() {
        return rank;
    }

    public float alpha() {
        return alpha;
    }

    public int layerCount() {
        return layers.size();
    }

    /** Undoes a {@link #patch}. */
    public interface Patch extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Points each targeted weight of {@code model} at {@code W + (alpha / rank) * up @ down}, computed in
     * {@code scope} with gradients flowing to up and down, until the patch is closed.
     */
    public Patch patch(Module model, NDManager scope) {
        Map<String, Parameter> params = model.namedParameters();
        Map<Parameter, NDArray> originals = new IdentityHashMap<>();
        try {
            for (Layer l : layers) {
                Parameter p = params.get(l.target.weightKey());
                NDArray w = p.get();
                NDArray up = Scopes.own(scope, l.up.get().reshape(l.target.outFeatures(), rank));
                NDArray down = Scopes.own(scope, l.down.get().reshape(rank, -1));
                // Ops.mulScalar: DJL frees a Number operand's array at once, and backward reads it
                NDArray delta = Ops.mulScalar(up, alpha / rank).matMul(down).reshape(l.target.weightShape());
                originals.put(p, w);
                p.set(delta.add(w));
            }
        } catch (RuntimeException e) {
            originals.forEach(Parameter::set);
            throw e;
        }
        return () -> originals.forEach(Parameter::set);
    }

    /** Writes the layers in kohya's format ({@code values}: the arrays to write by key, e.g. EMA) in {@code type}. */
    public void export(Path file, Map<String, NDArray> values, DataType type, Map<String, String> metadata) {
        try (NDManager scope = NDManager.newBaseManager()) {
            List<KohyaLoraWriter.Layer> out = new ArrayList<>();
            Map<String, Parameter> own = namedParameters();
            Map<Parameter, String> keyOf = new IdentityHashMap<>();
            own.forEach((k, p) -> keyOf.put(p, k));
            for (Layer l : layers) {
                NDArray down = Scopes.own(scope, values.get(keyOf.get(l.down)).toType(type, true));
                NDArray up = Scopes.own(scope, values.get(keyOf.get(l.up)).toType(type, true));
                out.add(new KohyaLoraWriter.Layer(part, l.target.path(), down, up, alpha));
            }
            Map<String, String> meta = new LinkedHashMap<>(metadata);
            meta.put("ss_network_module", "networks.lora");
            meta.put("ss_network_dim", Integer.toString(rank));
            meta.put("ss_network_alpha", Float.toString(alpha));
            KohyaLoraWriter.write(file, out, meta);
        }
    }
}
