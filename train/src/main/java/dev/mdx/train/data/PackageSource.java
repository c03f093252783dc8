package dev.mdx.train.data;

import java.nio.file.Path;

/** Supplies a data package as a local .tgz file; tests pass fixtures, builds use {@link NpmPackSource}. */
@FunctionalInterface
public interface PackageSource {
    Path fetch(String name, String version);
}
