package dev.mdx.text;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * What CLIPTextModel returns with output_hidden_states=True.
 *
 * @param lastHiddenState (B, L, D) after final_layer_norm: the SD conditioning when clip_skip is unset
 * @param hiddenStates num_hidden_layers + 1 arrays (B, L, D): the embeddings, then each layer's output
 *     (before final_layer_norm)
 * @param pooledOutput (B, D) rows of lastHiddenState at {@code pooledIndex}
 * @param pooledIndex the sequence position pooled for each batch row
 */
public record ClipTextOutput(NDArray lastHiddenState, List<NDArray> hiddenStates, NDArray pooledOutput,
        long[] pooledIndex) {

    public ClipTextOutput {
        hiddenStates = List.copyOf(hiddenStates);
        pooledIndex = pooledIndex.clone();
    }

    @Override
    public long[] pooledIndex() {
        return pooledIndex.clone();
    }
}
