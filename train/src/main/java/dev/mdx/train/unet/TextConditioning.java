package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import java.util.List;

/** The frozen text encoder of a denoiser stage: captions to the cross-attention context, without gradient. */
record TextConditioning(ClipTextModel textEncoder, ClipTokenizer tokenizer) {
    /** (B,) captions -> (B, 77, D) last hidden states. */
    NDArray encode(List<String> captions, NDManager scope) {
        NDArray ids = ClipTokenizer.inputIds(captions.stream().map(tokenizer::encode).toList(), scope);
        return textEncoder.forward(ids).lastHiddenState().stopGradient();
    }
}
