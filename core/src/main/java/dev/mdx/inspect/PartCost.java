package dev.mdx.inspect;

/**
 * Parameters and forward FLOPs of one kind of block within a component (all resnets, all cross-attentions, ...).
 * FLOPs count 2 per multiply-add of convolutions, linear layers and the two attention matmuls, as
 * {@link dev.mdx.tensor.FlopCounter} does; element-wise work (norms, activations, softmax) is not counted.
 *
 * @param part the block kind
 * @param params parameter count
 * @param convFlops convolution FLOPs
 * @param linearFlops linear-layer FLOPs
 * @param attentionFlops FLOPs of Q K^T and A V
 */
public record PartCost(String part, long params, long convFlops, long linearFlops, long attentionFlops) {
    public long flops() {
        return convFlops + linearFlops + attentionFlops;
    }
}
