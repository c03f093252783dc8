package dev.mdx.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.HashMap;
import java.util.Map;

/** A trace that keeps copies of the tensors a parity test compares, by the golden's names. */
class TraceRecorder implements PipelineTrace {
    private final NDManager manager;
    final Map<String, NDArray> tensors = new HashMap<>();

    TraceRecorder(NDManager manager) {
        this.manager = manager;
    }

    /** A copy of {@code a} (the traced arrays are freed with their step) under {@code name}. */
    void keep(String name, NDArray a) {
        NDArray copy = a.duplicate();
        copy.attach(manager);
        tensors.put(name, copy);
    }
}
