package dev.mdx.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * The per-run memory of a sampler, owned by the caller so that one sampler instance serves any number of concurrent
 * runs: which plan and step the run is at and, for multistep solvers (DPM-Solver++ 2M), the previous step's data
 * prediction. Bound to one plan at its first step; steps must then come in order. Not thread-safe (one per run);
 * close it to free the stored tensor.
 */
public final class SamplerState implements AutoCloseable {
    private SamplingPlan plan;
    private int nextIndex = -1;
    private int stepsTaken;
    private NDManager manager;
    private NDArray previousDenoised;

    /** How many steps of this run are done. */
    public int stepsTaken() {
        return stepsTaken;
    }

    void begin(SamplingPlan stepPlan, int index) {
        if (plan == null) {
            plan = stepPlan;
        } else if (plan != stepPlan) {
            throw new IllegalStateException("this SamplerState belongs to another plan; use one state per run");
        } else if (index != nextIndex) {
            throw new IllegalStateException("expected step " + nextIndex + " of this run, got step " + index);
        }
    }

    void finish(int index) {
        nextIndex = index + 1;
        stepsTaken++;
    }

    /** The data prediction of the previous step, or null before the first step. */
    NDArray previousDenoised() {
        return previousDenoised;
    }

    /** Keeps a copy of this step's data prediction (in the state's own manager) for the next step. */
    void rememberDenoised(NDArray denoised) {
        if (manager == null) {
            manager = NDManager.newBaseManager(denoised.getDevice(), denoised.getManager().getEngine().getEngineName());
        }
        NDArray copy = denoised.duplicate();
        copy.attach(manager);
        if (previousDenoised != null) {
            previousDenoised.close();
        }
        previousDenoised = copy;
    }

    @Override
    public void close() {
        previousDenoised = null;
        if (manager != null) {
            manager.close();
            manager = null;
        }
    }
}
