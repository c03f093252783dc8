package dev.mdx.bench;

/**
 * One measured operation. {@code ms} is the median wall time and {@code cpuMs} the process CPU time per run (0
 * when not measured); {@code gflops} the achieved rate from the counted matrix work over the wall time;
 * {@code percentOfPeak} that rate over the GEMM peak measured in the same run; {@code minMs} and {@code maxMs} the
 * fastest and slowest timed run.
 */
public record BenchRow(String model, String operation, double ms, double cpuMs, long flops, double gflops,
        double percentOfPeak, long peakRssBytes, double minMs, double maxMs) {
    /** "min-max" of the timed runs, or "" for a single measurement. */
    public String spread() {
        return maxMs > minMs ? String.format(java.util.Locale.ROOT, "%.0f-%.0f", minMs, maxMs) : "";
    }

    /** A row of one measurement (no spread). */
    public BenchRow(String model, String operation, double ms, double cpuMs, long flops, double gflops,
            double percentOfPeak, long peakRssBytes) {
        this(model, operation, ms, cpuMs, flops, gflops, percentOfPeak, peakRssBytes, ms, ms);
    }

    public static BenchRow of(String model, String operation, double ms, long flops, double peakGflops) {
        return of(model, operation, new Stopwatch.Timing(ms, 0), flops, peakGflops);
    }

    public static BenchRow of(String model, String operation, Stopwatch.Timing t, long flops, double peakGflops) {
        double rate = flops > 0 ? flops / (t.wallMs() / 1000) / 1e9 : 0;
        return new BenchRow(model, operation, t.wallMs(), t.cpuMs(), flops, rate,
                peakGflops > 0 ? 100 * rate / peakGflops : 0, ResidentMemory.peakBytes(), t.minMs(), t.maxMs());
    }
}
