package dev.mdx.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.testing.Golden;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The prompt half of the end-to-end pipeline golden: ids of the call's prompts and their embeddings. */
class PipelinePromptGoldenTest {
    private static Path pipelineIo() {
        return Golden.root().resolve("pipeline/io.safetensors");
    }

    @Test
    void tokenizerGivesThePipelinesIds() {
        Path vocabDir = Golden.sharedTokenizerDir(getClass().getSimpleName());
        Assumptions.assumeTrue(vocabDir != null, "CLIP vocab.json/merges.txt not available: skipped");
        ClipTokenizer tokenizer = ClipTokenizer.load(vocabDir);
        JsonNode call = JsonConfig.read(Golden.root().resolve("pipeline/pipeline_golden.json")).root().get("call");
        try (NDManager manager = NDManager.newBaseManager(); SafeTensorsFile golden = SafeTensorsFile.open(pipelineIo())) {
            assertArrayEquals(golden.load("prompt_input_ids", manager).toLongArray(),
                    tokenizer.encode(call.get("prompt").asText()).inputIdsAsLongs(), "prompt ids");
            assertArrayEquals(golden.load("negative_prompt_input_ids", manager).toLongArray(),
                    tokenizer.encode(call.get("negative_prompt").asText()).inputIdsAsLongs(), "negative prompt ids");
        }
    }

    @Test
    void textEncoderGivesThePipelinesPromptEmbeds() {
        Path dir = Golden.pipelineComponent("text_encoder");
        try (NDManager weights = NDManager.newBaseManager();
                NDManager scope = weights.newSubManager();
                SafeTensorsFile golden = SafeTensorsFile.open(pipelineIo())) {
            ClipTextModel model = ClipTextModel.load(dir, weights);
            // [negative, positive] as the pipeline concatenates them for classifier-free guidance
            NDArray ids = golden.load("negative_prompt_input_ids", scope)
                    .concat(golden.load("prompt_input_ids", scope), 0);
            NDArray embeds = model.forward(ids).lastHiddenState();
            Golden.assertClose(golden.load("prompt_embeds", scope), embeds,
                    Golden.tolerance(dir.resolve("io.safetensors"), "last_hidden_state", 5e-5), "pipeline prompt_embeds");
        }
    }
}
