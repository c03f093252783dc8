package dev.mdx.inspect;

import dev.mdx.text.ClipTextConfig;

/** Parameters and forward FLOPs of a {@link dev.mdx.text.ClipTextModel}, from its config. */
public final class TextEncoderCost {
    public static final String EMBEDDINGS = "embeddings";
    public static final String SELF_ATTENTION = "self-attention";
    public static final String MLP = "mlp";
    public static final String FINAL_NORM = "final_layer_norm";

    private TextEncoderCost() {}

    /** A forward over (batch, length) token ids; the causal mask does not reduce the counted matmuls. */
    public static ComponentCost of(ClipTextConfig c, int batch, int length) {
        if (batch < 1 || length < 1 || length > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("batch must be positive and length in 1.." + c.maxPositionEmbeddings());
        }
        CostSheet sheet = new CostSheet();
        int d = c.hiddenSize();
        long rows = (long) batch * length;
        sheet.table(EMBEDDINGS, c.vocabSize(), d);
        sheet.table(EMBEDDINGS, c.maxPositionEmbeddings(), d);
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            sheet.norm(SELF_ATTENTION, d);
            for (int p = 0; p < 4; p++) { // q, k, v, out
                sheet.linear(SELF_ATTENTION, d, d, true, rows);
            }
            sheet.attention(SELF_ATTENTION, batch, length, length, d);
            sheet.norm(MLP, d);
            sheet.linear(MLP, d, c.intermediateSize(), true, rows);
            sheet.linear(MLP, c.intermediateSize(), d, true, rows);
        }
        sheet.norm(FINAL_NORM, d);
        return sheet.build("text encoder", String.format("token ids (%d, %d)", batch, length));
    }
}
