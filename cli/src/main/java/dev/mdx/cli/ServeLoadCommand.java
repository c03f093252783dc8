package dev.mdx.cli;

import dev.mdx.serve.LoadTest;
import dev.mdx.serve.ServeConfig;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Load-tests a running server on this machine: parses flags into {@link LoadTest.Settings} and prints the report. */
@Command(name = "serve-load", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {"Send a bounded number of generation requests from concurrent clients to an mdx server on this"
                + " machine (loopback only) and report images/s, latency percentiles, 429s, lost requests and the"
                + " server's resident memory before and after."},
        footer = {"", "Example (with 'mdx serve' running in another terminal):",
            "  mdx serve-load --requests 200 --clients 16 --steps 1"})
public final class ServeLoadCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--url", paramLabel = "URL",
            defaultValue = "http://" + ServeConfig.DEFAULT_HOST + ":" + ServeConfig.DEFAULT_PORT,
            description = "The server (default: ${DEFAULT-VALUE}); only loopback addresses are accepted.")
    String url;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "200", description = "Requests in all (default:"
            + " ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--clients", paramLabel = "N", defaultValue = "16", description = "Concurrent clients (default:"
            + " ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "1", description = "Steps per request (default:"
            + " ${DEFAULT-VALUE}; 1 and 8 run the bundled models' students).")
    int steps;

    @Option(names = {"-m", "--model"}, paramLabel = "NAME", description = "Model to ask for (default: the server's).")
    String model;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Bearer key (default: the "
            + ServeConfig.API_KEY_ENV + " environment variable).")
    String apiKey;

    @Option(names = "--time-limit", paramLabel = "SECONDS", defaultValue = "600",
            description = "Stop sending after this (default: ${DEFAULT-VALUE}).")
    int timeLimit;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        String key = apiKey != null ? apiKey : System.getenv(ServeConfig.API_KEY_ENV);
        LoadTest.Settings settings;
        try {
            settings = new LoadTest.Settings(URI.create(url), requests, clients, steps, model,
                    key == null || key.isEmpty() ? null : key, Duration.ofSeconds(timeLimit), Duration.ofSeconds(300));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--url: " + e.getMessage());
        }
        LoadTest.Report report = new LoadTest(settings).run(System.err);
        out.println(report.summary());
        out.flush();
        if (report.lost() > 0) {
            throw new dev.mdx.MdxException(report.lost() + " requests were lost (no answer, or an answer that was"
                    + " neither an image nor a JSON error)");
        }
    }
}
