package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code mdx generate --embd-dir DIR --clip-skip N} and long, weighted prompts on the micro model (14 tokens a chunk). */
class GeneratePromptFlagsTest {
    private static Path shared;
    private static Path micro;
    private static Path embeddings;
    private static int savedThreads;

    @BeforeAll
    static void makeModel() throws IOException {
        savedThreads = EngineThreads.current();
        EngineThreads.set(1);
        shared = Files.createTempDirectory("mdx-cli-prompts");
        micro = TestModels.microPipeline(shared.resolve("micro"));
        embeddings = Files.createDirectories(shared.resolve("emb"));
        try (NDManager m = NDManager.newBaseManager()) {
            SafeTensorsWriter.write(embeddings.resolve("qz.safetensors"),
                    Map.of("emb_params", m.ones(new Shape(2, 16)).mul(0.1f)), Map.of());
            SafeTensorsWriter.write(embeddings.resolve("wide.safetensors"),
                    Map.of("emb_params", m.ones(new Shape(1, 768))), Map.of());
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        EngineThreads.set(savedThreads);
        CliRun.deleteTree(shared);
    }

    private static CliRun generate(String prompt, String... extra) {
        return CliRun.generate(micro, shared.resolve("out.png"), prompt, extra);
    }

    @Test
    void embeddingsWeightsAndLongPromptsRun() {
        CliRun r = generate("a (qz:1.2) fox, [abcd efgh ijkl mnop qrst uvwx]", "--embd-dir", embeddings.toString(),
                "--clip-skip", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("note: the prompt uses the embedding qz"), r.err());
        assertTrue(r.err().contains("encoded in 3 chunks of 14"), r.err());
        assertFalse(r.err().contains("warning"), r.err());
        assertTrue(Files.isRegularFile(shared.resolve("out.png")));
    }

    @Test
    void badPromptInputIsOneClearMessage() {
        CliRun wide = generate("a wide fox", "--embd-dir", embeddings.toString());
        assertEquals(ExitCodes.USAGE, wide.code(), wide.err());
        assertTrue(wide.err().contains("-p/--prompt the embedding 'wide'") && wide.err().contains("takes 16"),
                wide.err());
        CliRun skip = generate("a fox", "--clip-skip", "2");
        assertEquals(ExitCodes.USAGE, skip.code(), skip.err());
        assertTrue(skip.err().contains("--clip-skip must be between 1 (the last layer) and 1"), skip.err());
        for (CliRun r : List.of(wide, skip)) {
            assertFalse(r.err().contains("\tat ") || r.err().contains("internal error"), r.err());
        }
    }
}
