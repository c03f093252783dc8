package dev.mdx.bench;

import dev.mdx.MdxException;
import dev.mdx.io.JsonConfig;
import dev.mdx.tensor.EngineThreads;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs one preset's benchmark in a fresh JVM, so that its peak resident memory is its own. The child is this JVM's
 * java with the same options and classpath running {@link #main}, which reads what to run from a JSON file, prints
 * its progress lines and writes its results for the parent to read back.
 */
public final class FreshJvmBench {
    /** What the child runs. */
    record Request(String preset, double peakGflops, BenchSettings settings) {}

    private FreshJvmBench() {}

    /**
     * The preset's rows and its JVM's peak RSS, or empty if the child failed. The child's output, its errors
     * included, goes to {@code out} as it comes, then a line when it failed.
     */
    public static Optional<BenchResults> run(String preset, BenchSettings settings, double peakGflops,
            Consumer<String> out) {
        try (ScratchDir dir = new ScratchDir()) {
            Path request = dir.resolve("request.json");
            Path result = dir.resolve("result.json");
            JsonConfig.MAPPER.writeValue(request.toFile(), new Request(preset, peakGflops, settings));
            out.accept(preset + " (fresh JVM):");
            Process p = new ProcessBuilder(command(request, result)).redirectErrorStream(true).start();
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    // libtorch's per-conv NNPACK warning is noise
                    if (!line.contains("Could not initialize NNPACK")) {
                        out.accept(line);
                    }
                }
            }
            int code = p.waitFor();
            if (code != 0 || !Files.isRegularFile(result)) {
                out.accept(String.format("  %s: the child JVM exited with code %d", preset, code));
                return Optional.empty();
            }
            return Optional.of(BenchResults.read(result));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the benchmark of " + preset + " in a child JVM: "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MdxException("interrupted while benchmarking " + preset);
        }
    }

    private static List<String> command(Path request, Path result) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        // the mdx command sets it at run time rather than on the command line
        String offline = System.getProperty("ai.djl.offline");
        if (offline != null) {
            cmd.add("-Dai.djl.offline=" + offline);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), FreshJvmBench.class.getName(),
                request.toString(), result.toString()));
        return cmd;
    }

    /** The child: runs the request in the file {@code args[0]} and writes its results to the file {@code args[1]}. */
    public static void main(String[] args) {
        int code = 1;
        String preset = "?";
        try {
            Request r = JsonConfig.MAPPER.readValue(Path.of(args[0]).toFile(), Request.class);
            preset = r.preset();
            if (r.settings().engineThreads() != null) {
                EngineThreads.set(r.settings().engineThreads());
            }
            List<BenchRow> rows = new InProcessBench(r.settings(), r.peakGflops(), line -> {
                System.out.println(line);
                System.out.flush();
            }).preset(preset);
            BenchResults results = new BenchResults();
            results.add(preset, rows, ResidentMemory.peakBytes());
            results.write(Path.of(args[1]));
            code = 0;
        } catch (MdxException | IOException | UncheckedIOException e) {
            System.out.println("  " + preset + ": error: " + e.getMessage());
        } catch (Throwable t) {
            // a bug: the parent shows its stack trace with the rest of this output
            t.printStackTrace();
        }
        System.exit(code);
    }
}
