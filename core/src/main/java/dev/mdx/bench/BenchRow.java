package dev.mdx.bench;

/**
 * One measured operation. {@code ms} is the median wall time; {@code gflops} the achieved rate from the counted
 * matrix work; {@code percentOfPeak} that rate over the GEMM peak measured in the same run.
 */
public record BenchRow(String model, String operation, double ms, long flops, double gflops, double percentOfPeak,
        long peakRssBytes) {
    public static BenchRow of(String model, String operation, double ms, long flops, double peakGflops) {
        double rate = flops > 0 ? flops / (ms / 1000) / 1e9 : 0;
        return new BenchRow(model, operation, ms, flops, rate, peakGflops > 0 ? 100 * rate / peakGflops : 0,
                ResidentMemory.peakBytes());
    }
}
