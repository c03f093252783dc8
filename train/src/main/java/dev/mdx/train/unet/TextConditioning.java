package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import java.util.List;

/** The frozen text encoder of a denoiser stage: captions to the cross-attention context, without gradient. */
record TextConditioning(ClipTextModel textEncoder, ClipTokenizer tokenizer) {
    TextConditioning {
        // the stage configs name the tokenizer and the text encoder separately
        textEncoder.config().requireTokenizer(tokenizer);
    }

    /**
     * (B,) captions -> (B, L, D) last hidden states, L the tokenizer's length capped at the text encoder's (as the
     * pipeline reads prompts, so a tokenizer longer than its text encoder trains as it samples).
     */
    NDArray encode(List<String> captions, NDManager scope) {
        int length = Math.min(tokenizer.maxLength(), textEncoder.config().maxPositionEmbeddings());
        NDArray ids = ClipTokenizer.inputIds(captions.stream().map(c -> tokenizer.encode(c, length)).toList(), scope);
        return textEncoder.forward(ids).lastHiddenState().stopGradient();
    }
}
