package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import java.util.Map;

/**
 * Captures named intermediate outputs of a forward pass for parity debugging, keyed by submodule path
 * ("down_blocks.0.resnets.1"). The recorded arrays are the activations themselves (no copy), owned by the
 * forward pass's scope manager, so read them before that scope closes. {@link #off()} records nothing.
 */
public final class Probe {
    private static final Probe OFF = new Probe(null, "");

    private final Map<String, NDArray> sink;
    private final String prefix;

    private Probe(Map<String, NDArray> sink, String prefix) {
        this.sink = sink;
        this.prefix = prefix;
    }

    public static Probe off() {
        return OFF;
    }

    /** A probe writing into {@code sink}; a null sink gives {@link #off()}. */
    public static Probe into(Map<String, NDArray> sink) {
        return sink == null ? OFF : new Probe(sink, "");
    }

    public boolean enabled() {
        return sink != null;
    }

    /** The probe of a child module, whose names get {@code name.} prepended. */
    public Probe child(String name) {
        return sink == null ? this : new Probe(sink, prefix + name + ".");
    }

    public Probe child(String name, int index) {
        return sink == null ? this : new Probe(sink, prefix + name + "." + index + ".");
    }

    /** Records {@code x} under this probe's path + name and returns it unchanged. */
    public NDArray record(String name, NDArray x) {
        if (sink != null) {
            sink.put(prefix + name, x);
        }
        return x;
    }

    /** Records the output of the module this probe belongs to (its path without a trailing dot). */
    public NDArray recordSelf(NDArray x) {
        if (sink != null) {
            sink.put(prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1), x);
        }
        return x;
    }
}
