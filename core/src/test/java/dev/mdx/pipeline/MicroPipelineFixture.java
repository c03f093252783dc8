package dev.mdx.pipeline;

import dev.mdx.tensor.EngineThreads;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/**
 * A micro pipeline written to a temporary folder and loaded once per test class, with the engine on one thread:
 * tiny tensors gain nothing from intra-op threads, and on a busy 2-core machine their spinning costs 50x.
 */
final class MicroPipelineFixture implements AutoCloseable {
    /** Writes a pipeline folder at the given path and returns it (a TestModels factory). */
    interface Writer {
        Path write(Path folder) throws Exception;
    }

    final Path dir;
    final Path model;
    final TextToImagePipeline pipeline;
    private final int savedThreads;

    MicroPipelineFixture(String prefix, Writer writer) throws Exception {
        savedThreads = EngineThreads.current();
        EngineThreads.set(1);
        dir = Files.createTempDirectory(prefix);
        model = writer.write(dir.resolve("micro"));
        pipeline = TextToImagePipeline.load(model);
    }

    @Override
    public void close() throws IOException {
        EngineThreads.set(savedThreads);
        pipeline.close();
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
