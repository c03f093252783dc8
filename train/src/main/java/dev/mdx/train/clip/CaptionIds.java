package dev.mdx.train.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.text.TokenizedPrompt;
import java.util.ArrayList;
import java.util.List;

/**
 * Captions to a (B, L) id array for the contrastive stage. L is the longest caption of the batch (at most the
 * tokenizer's model length), not the model length: the text tower pools at the first end-of-text and its mask is
 * causal, so later padding changes nothing and only costs time.
 */
public final class CaptionIds {
    private CaptionIds() {}

    public static NDArray encode(ClipTokenizer tokenizer, List<String> captions, NDManager manager) {
        List<TokenizedPrompt> prompts = new ArrayList<>(captions.size());
        int length = 2;
        for (String c : captions) {
            TokenizedPrompt p = tokenizer.encode(c);
            prompts.add(p);
            length = Math.max(length, Math.min(p.untruncatedLength(), tokenizer.maxLength()));
        }
        long[] ids = new long[captions.size() * length];
        for (int b = 0; b < prompts.size(); b++) {
            long[] row = prompts.get(b).inputIdsAsLongs();
            System.arraycopy(row, 0, ids, b * length, length);
        }
        return manager.create(ids, new Shape(captions.size(), length));
    }
}
