package dev.mdx.serve;

import dev.mdx.MdxException;
import dev.mdx.pipeline.BatchedGeneration;
import dev.mdx.pipeline.GenerationCancelledException;
import dev.mdx.pipeline.GenerationResult;
import dev.mdx.pipeline.NonFiniteValuesException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Admission and scheduling: a bounded queue in front of a fixed number of worker threads. A full queue refuses at
 * once (429 with Retry-After) instead of letting callers wait without bound. A worker takes the oldest job and with
 * it every queued job that can share its model batch ({@link BatchedGeneration#batchKey}: same model variant, size,
 * timesteps and guidance), up to {@code maxBatchImages} images, and runs them as one batch: under load the queue
 * holds many one-step requests, so batches fill and throughput grows with load (dynamic batching).
 *
 * <p>A job alone runs exactly as {@code mdx generate} would (the same bytes for the same seed); in a batch its
 * images may differ from that by the last bits of batched float sums (at most 1 of 255 measured).
 */
final class GenerationQueue implements AutoCloseable {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final Set<Job> running = ConcurrentHashMap.newKeySet();
    private final int capacity;
    private final int workers;
    private final int maxBatchImages;
    private final ServerMetrics metrics;
    private final List<Thread> threads = new ArrayList<>();
    /** Mean seconds per batch, for Retry-After; starts at one second until measured. */
    private volatile double batchSeconds = 1;
    private boolean closed;

    GenerationQueue(int workers, int capacity, int maxBatchImages, ServerMetrics metrics) {
        this.capacity = capacity;
        this.workers = workers;
        this.maxBatchImages = maxBatchImages;
        this.metrics = metrics;
        for (int i = 0; i < workers; i++) {
            Thread t = new Thread(this::work, "mdx-generation-" + (i + 1));
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /**
     * Admits a job or refuses it.
     *
     * @return the number of jobs ahead of it
     * @throws ApiException 429 when the queue is full, 503 when the server is stopping
     */
    int submit(Job job) {
        lock.lock();
        try {
            if (closed) {
                throw new ApiException(503, "server_unavailable", null, "the server is shutting down");
            }
            if (queue.size() >= capacity) {
                long retry = retryAfterSeconds();
                throw new ApiException(429, "rate_limit_exceeded", null, "the server is busy: " + queue.size()
                        + " requests are waiting (the limit is " + capacity + "); retry in about " + retry + " s",
                        Map.of("Retry-After", Long.toString(retry)));
            }
            queue.addLast(job);
            notEmpty.signal();
            return queue.size() - 1 + running.size();
        } finally {
            lock.unlock();
        }
    }

    /** Time for the queue ahead to drain at the measured batch rate, at least a second. */
    private long retryAfterSeconds() {
        double batches = Math.ceil((double) (queue.size() + running.size()) / Math.max(1, maxBatchImages));
        return Math.max(1, Math.min(600, Math.round(Math.ceil(batches * batchSeconds / workers))));
    }

    /**
     * Stops a job: a queued one is removed and fails at once; a running one stops after its current step (its step
     * callback sees {@link Job#stop}).
     */
    void stop(Job job, Job.Stop reason) {
        boolean removed;
        lock.lock();
        try {
            if (job.stop == null) {
                job.stop = reason;
            }
            removed = queue.remove(job);
        } finally {
            lock.unlock();
        }
        if (removed) {
            job.done.completeExceptionally(stopped(job));
        }
    }

    /** Stops every running job (A1111's interrupt); queued ones go on. Returns how many were stopped. */
    int interruptRunning() {
        int n = 0;
        for (Job j : running) {
            stop(j, Job.Stop.INTERRUPTED);
            n++;
        }
        return n;
    }

    int length() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    int runningCount() {
        return running.size();
    }

    /** The running job that started first, for A1111's progress. */
    Optional<Job> oldestRunning() {
        return running.stream().min(Comparator.comparingLong(j -> j.startedNanos));
    }

    private void work() {
        while (true) {
            List<Job> batch;
            try {
                batch = nextBatch();
            } catch (InterruptedException e) {
                return;
            }
            if (batch == null) {
                return;
            }
            run(batch);
        }
    }

    /** The oldest job and the queued jobs that can share its batch; null once closed and drained. */
    private List<Job> nextBatch() throws InterruptedException {
        lock.lock();
        try {
            while (queue.isEmpty()) {
                if (closed) {
                    return null;
                }
                notEmpty.await(1, TimeUnit.SECONDS);
            }
            Job first = queue.pollFirst();
            List<Job> batch = new ArrayList<>(List.of(first));
            int images = first.imageCount();
            for (Iterator<Job> it = queue.iterator(); it.hasNext() && images < maxBatchImages; ) {
                Job j = it.next();
                if (j.pipeline == first.pipeline && j.batchKey.equals(first.batchKey)
                        && images + j.imageCount() <= maxBatchImages) {
                    it.remove();
                    batch.add(j);
                    images += j.imageCount();
                }
            }
            running.addAll(batch);
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void run(List<Job> batch) {
        long start = System.nanoTime();
        List<Job> live = new ArrayList<>();
        for (Job j : batch) {
            j.startedNanos = start;
            if (j.stop == null && j.expired(start)) {
                j.stop = Job.Stop.TIMEOUT;
            }
            if (j.stop != null) {
                j.done.completeExceptionally(stopped(j));
            } else {
                metrics.queueWait(start - j.submittedNanos);
                live.add(j);
            }
        }
        try {
            if (live.size() == 1) {
                Job j = live.get(0);
                metrics.batch(j.imageCount());
                try {
                    succeed(j, j.pipeline.generate(j.plan, j::onStep, j::onImage), start, 1);
                } catch (RuntimeException e) {
                    fail(j, e);
                }
            } else if (!live.isEmpty()) {
                int images = live.stream().mapToInt(Job::imageCount).sum();
                metrics.batch(images);
                List<BatchedGeneration.Outcome> outcomes;
                try {
                    outcomes = live.get(0).pipeline.generateTogether(live.stream()
                            .map(j -> new BatchedGeneration.Member(j.plan, j::onStep, j::onImage)).toList());
                } catch (RuntimeException e) {
                    live.forEach(j -> fail(j, e));
                    return;
                }
                for (int i = 0; i < live.size(); i++) {
                    BatchedGeneration.Outcome o = outcomes.get(i);
                    if (o.succeeded()) {
                        succeed(live.get(i), o.result(), start, images);
                    } else {
                        fail(live.get(i), o.failure());
                    }
                }
            }
        } finally {
            running.removeAll(batch);
            double seconds = (System.nanoTime() - start) / 1e9;
            batchSeconds = 0.8 * batchSeconds + 0.2 * seconds;
        }
    }

    private void succeed(Job j, GenerationResult r, long start, int batchImages) {
        metrics.images(j.model, r.parameters().batchCount());
        j.done.complete(new Job.Result(j.pngs(), r.parameters(), r.warnings(), j.plan.notes(),
                (start - j.submittedNanos) / 1e6, (System.nanoTime() - start) / 1e6, batchImages, false));
    }

    /** Completes the job's future with the error its handler turns into a response. */
    private void fail(Job j, RuntimeException e) {
        List<byte[]> finished = j.pngs();
        if (e instanceof GenerationCancelledException && j.stop == Job.Stop.INTERRUPTED && !finished.isEmpty()) {
            // A1111 answers an interrupted request with the images it has
            metrics.images(j.model, finished.size());
            j.done.complete(new Job.Result(finished, j.plan.parameters(), j.plan.warnings(), j.plan.notes(),
                    (j.startedNanos - j.submittedNanos) / 1e6, (System.nanoTime() - j.startedNanos) / 1e6, 0, true));
            return;
        }
        j.done.completeExceptionally(failure(j, e));
    }

    private static RuntimeException failure(Job j, RuntimeException e) {
        if (e instanceof GenerationCancelledException && j.stop != null) {
            return stopped(j);
        }
        // a model that produces NaN, or files that fail as they load: the server's problem, told as it is
        if (e instanceof NonFiniteValuesException || e instanceof MdxException) {
            return new ApiException(500, "model_error", null, e.getMessage());
        }
        if (e instanceof IllegalStateException && e.getMessage() != null && e.getMessage().contains("closed")) {
            return new ApiException(503, "server_unavailable", null, "the server is shutting down");
        }
        return e;
    }

    /** The error of a job stopped before it finished. */
    private static ApiException stopped(Job j) {
        return switch (j.stop) {
            case TIMEOUT -> new ApiException(504, "timeout", null, "the request did not finish within the server's"
                    + " request timeout; try fewer images or steps, or retry when the server is less busy");
            case SHUTDOWN -> new ApiException(503, "server_unavailable", null, "the server is shutting down");
            // nginx's code for a client that closed its connection; nobody reads this answer
            case CLIENT_GONE -> new ApiException(499, "client_closed_request", null, "the client went away");
            case INTERRUPTED -> new ApiException(409, "interrupted", null, "generation interrupted by POST"
                    + " /sdapi/v1/interrupt before any image was finished");
        };
    }

    /** Refuses new jobs, stops queued and running ones (503) and waits for the workers. */
    @Override
    public void close() {
        List<Job> queued;
        lock.lock();
        try {
            closed = true;
            queued = new ArrayList<>(queue);
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
        queued.forEach(j -> stop(j, Job.Stop.SHUTDOWN));
        running.forEach(j -> stop(j, Job.Stop.SHUTDOWN));
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
