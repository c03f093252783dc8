package dev.mdx.train.data;

/** Progress of a data set build, for a progress bar; called from the building thread. */
@FunctionalInterface
public interface BuildProgress {
    BuildProgress NONE = (phase, done, total) -> { };

    void update(String phase, long done, long total);
}
