package dev.mdx.pipeline;

import ai.djl.ndarray.NDManager;
import dev.mdx.MdxException;
import dev.mdx.lora.FusedWeights;
import dev.mdx.lora.LoraPart;
import dev.mdx.lora.LoraSet;
import dev.mdx.nn.Module;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which LoRAs are fused into the shared weights, and who may run on them. Every generate call holds a lease for its
 * plan's {@link LoraSet} while it runs: calls whose sets are equal (the same files at the same scales; no LoRA is a
 * set too) run together on the same fused weights; a call with another set waits until the running calls finish,
 * then the weights are restored exactly and the new set is fused. Waiting calls are served in arrival order, a run
 * of calls with one set at a time, so a steady stream of one set cannot starve another.
 *
 * <p>Each model is fused when the first call that needs it enters: the text encoder (shared by the base model and
 * its students) and the UNet of the variant the call runs.
 */
final class LoraWeights {
    private final NDManager weights;
    /** Calls waiting to enter, oldest first. */
    private final Deque<Ticket> queue = new ArrayDeque<>();
    /** The models fused with {@link #current}, and how to restore each. */
    private final Map<Module, FusedWeights> fused = new IdentityHashMap<>();
    private List<Object> current = LoraSet.EMPTY.key();
    private int running;

    /** @param weights the manager of the model weights; fused arrays go in children of it */
    LoraWeights(NDManager weights) {
        this.weights = weights;
    }

    /** Held by a running call; closing it lets calls with other sets in. */
    final class Lease implements AutoCloseable {
        private boolean released;

        @Override
        public void close() {
            synchronized (LoraWeights.this) {
                if (!released) {
                    released = true;
                    running--;
                    LoraWeights.this.notifyAll();
                }
            }
        }
    }

    /**
     * Waits until {@code set} may be fused (or already is), fuses it into the text encoder and {@code variant}'s
     * UNet where that is not yet done, and returns the lease the call holds while it runs.
     */
    synchronized Lease acquire(ModelVariant variant, LoraSet set) {
        List<Object> key = set.key();
        Ticket ticket = new Ticket(key);
        queue.addLast(ticket);
        try {
            while (!mayEnter(ticket)) {
                wait();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MdxException("interrupted while waiting for other generations to finish with their LoRAs");
        } finally {
            queue.remove(ticket);
            notifyAll();
        }
        if (!key.equals(current)) {
            restoreAll();
            current = key;
        }
        running++;
        Lease lease = new Lease();
        try {
            if (!set.isEmpty()) {
                fuse(LoraPart.TEXT_ENCODER, variant.textEncoder(), set);
                fuse(LoraPart.UNET, variant.denoiser().unet(), set);
            }
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
        return lease;
    }

    /** The oldest waiting call's set enters once the running calls share it or none runs; equal sets behind it too. */
    private boolean mayEnter(Ticket ticket) {
        for (Ticket ahead : queue) {
            if (ahead == ticket) {
                break;
            }
            if (!ahead.key.equals(ticket.key)) {
                return false;
            }
        }
        return ticket.key.equals(current) || running == 0;
    }

    /** A waiting call's place in the queue (identity, not the key, tells two calls with one set apart). */
    private static final class Ticket {
        final List<Object> key;

        Ticket(List<Object> key) {
            this.key = key;
        }
    }

    private void fuse(LoraPart part, Module model, LoraSet set) {
        if (!fused.containsKey(model)) {
            fused.put(model, FusedWeights.fuse(model, part, set.active(), weights));
        }
    }

    /** Gives every fused model its original weights back; only while no call runs. */
    private void restoreAll() {
        fused.values().forEach(FusedWeights::restore);
        fused.clear();
    }

    /** Calls waiting to enter; for tests. */
    synchronized int waiting() {
        return queue.size();
    }
}
