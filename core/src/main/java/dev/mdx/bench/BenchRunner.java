package dev.mdx.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs a benchmark: presets with random weights, each in a fresh JVM so that its peak resident memory is its own
 * (or all in this JVM, where peak RSS accumulates), then diffusers pipeline folders as they are, in this JVM.
 *
 * @param peakGflops the GEMM peak the rates are read against ({@link GemmPeak#measure})
 * @param out receives the progress lines
 */
public record BenchRunner(BenchSettings settings, double peakGflops, Consumer<String> out) {
    /** A preset that fails in its fresh JVM is listed in {@link BenchResults#failed} and the run goes on. */
    public BenchResults run(List<String> presets, List<Path> folders, boolean freshJvms) {
        presets.forEach(settings::checkPreset);
        BenchResults results = new BenchResults();
        InProcessBench here = new InProcessBench(settings, peakGflops, out);
        for (String preset : presets) {
            if (freshJvms) {
                Optional<BenchResults> child = FreshJvmBench.run(preset, settings, peakGflops, out);
                child.ifPresentOrElse(results::addAll, () -> results.addFailed(preset));
            } else {
                results.add(preset, here.preset(preset), ResidentMemory.peakBytes());
            }
        }
        for (Path folder : folders) {
            results.add(folder.getFileName().toString(), here.folder(folder), ResidentMemory.peakBytes());
        }
        return results;
    }
}
