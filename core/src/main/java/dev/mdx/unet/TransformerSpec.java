package dev.mdx.unet;

import dev.mdx.nn.FeedForwardActivation;
import dev.mdx.tensor.Ops;

/**
 * How the Transformer2DModel of one UNet block is built.
 *
 * @param heads attention heads (head size = channels / heads)
 * @param layers BasicTransformerBlocks in the stack
 * @param contextDim width of the encoder hidden states (cross-attention keys and values)
 * @param linearProjection proj_in/proj_out are Linear layers after the reshape (else 1x1 convs before it)
 * @param groups GroupNorm groups of the input norm
 * @param onlyCrossAttention attn1 attends to the context instead of to itself
 * @param selfAttention blocks have attn1 (false: cross-attention and feed-forward only)
 * @param kind softmax or ReLU attention weights
 * @param sharedKv one to_kv projection for keys and values
 * @param ffActivation feed-forward activation
 * @param ffMult feed-forward inner width / channels
 */
public record TransformerSpec(int heads, int layers, int contextDim, boolean linearProjection, int groups,
        boolean onlyCrossAttention, boolean selfAttention, Ops.AttentionKind kind, boolean sharedKv,
        FeedForwardActivation ffActivation, double ffMult) {

    /** The spec of the transformer at {@code level} of a UNet, with the given number of layers and self-attention. */
    static TransformerSpec forLevel(UNetConfig c, int level, int layers, boolean selfAttention) {
        return new TransformerSpec(c.heads(level), layers, c.crossAttentionDim().get(level), c.useLinearProjection(),
                c.normNumGroups(), c.onlyCrossAttention().get(level), selfAttention, c.attentionKind(),
                c.sharedKvProjection(), c.ffActivation(), c.ffMult());
    }
}
