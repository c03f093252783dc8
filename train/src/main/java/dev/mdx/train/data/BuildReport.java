package dev.mdx.train.data;

import java.nio.file.Path;

/** What a builder produced: the header of the data set, and whether an up-to-date cached build was reused. */
public record BuildReport(Path dir, DatasetInfo info, boolean reused, double seconds) {}
