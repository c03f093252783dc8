package dev.mdx.prompt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTextOutput;
import java.util.List;

/**
 * The UNet conditioning of {@link ChunkedPrompt}s: each chunk through the text encoder (embedding vectors in place
 * of their placeholder ids), the output of the layer {@code clipSkip} selects (A1111: 1 = the last layer, 2 = the one
 * before it followed by the final layer norm), the attention weights applied as A1111's default emphasis does
 * (each position's hidden state times its weight, then the chunk rescaled so its mean is the unweighted mean), and
 * the chunks concatenated along the sequence. One chunk of weight 1 without embeddings at clip skip 1 is exactly
 * {@code forward(ids).lastHiddenState()}.
 */
public final class PromptEncoder {
    /** A1111's default: the last layer. */
    public static final int DEFAULT_CLIP_SKIP = 1;

    private PromptEncoder() {}

    /**
     * Checks a clip skip against the text encoder.
     *
     * @throws IllegalArgumentException when it is not between 1 and the encoder's layer count
     */
    public static int checkClipSkip(int clipSkip, int layers) {
        if (clipSkip < 1 || clipSkip > layers) {
            throw new IllegalArgumentException("must be between 1 (the last layer) and " + layers + " (this text"
                    + " encoder's layer count), got " + clipSkip);
        }
        return clipSkip;
    }

    /**
     * (B, chunks * L, D) conditioning of the rows, in {@code scope}'s sub-scopes (the result is in {@code scope}).
     *
     * @param rows prompts with the same chunk count
     */
    public static NDArray encode(ClipTextModel encoder, List<ChunkedPrompt> rows, int clipSkip, NDManager scope) {
        checkClipSkip(clipSkip, encoder.config().numHiddenLayers());
        int chunks = rows.get(0).chunkCount();
        int length = rows.get(0).chunkLength();
        for (ChunkedPrompt r : rows) {
            if (r.chunkCount() != chunks || r.chunkLength() != length) {
                throw new IllegalArgumentException("prompts encoded together must have the same number of chunks");
            }
        }
        NDList parts = new NDList(chunks);
        for (int c = 0; c < chunks; c++) {
            parts.add(chunk(encoder, rows, c, clipSkip, scope));
        }
        // (B, L, D) x chunks -> (B, chunks * L, D)
        return chunks == 1 ? parts.get(0) : NDArrays.concat(parts, 1);
    }

    /** (B, L, D) of chunk c of every row. */
    private static NDArray chunk(ClipTextModel encoder, List<ChunkedPrompt> rows, int c, int clipSkip,
            NDManager scope) {
        int batch = rows.size();
        int length = rows.get(0).chunkLength();
        long[] ids = new long[batch * length];
        boolean vectors = false;
        boolean weighted = false;
        for (int b = 0; b < batch; b++) {
            int[] row = rows.get(b).idsOf(c);
            for (int i = 0; i < length; i++) {
                ids[b * length + i] = row[i];
            }
            vectors |= rows.get(b).hasVectors(c);
            weighted |= rows.get(b).weighted(c);
        }
        NDArray inputIds = scope.create(ids, new Shape(batch, length));
        ClipTextOutput out;
        if (vectors) {
            NDArray[] replace = vectors(rows, c, encoder, scope);
            out = encoder.forward(inputIds, replace[0], replace[1]);
        } else {
            out = encoder.forward(inputIds);
        }
        NDArray z = encoder.conditioning(out, clipSkip - 1);
        return weighted ? emphasis(z, rows, c, scope) : z;
    }

    /**
     * A1111's "Original" emphasis, per row: z * w, rescaled by mean(z) / mean(z * w) so the row's mean is kept. A row of
     * weight 1 comes out bit for bit (z * 1 = z and mean / mean = 1). Where mean(z * w) is no more than rounding
     * noise (below {@value #NEGLIGIBLE_MEAN} of the row's root mean square; an encoder whose final layer norm has no
     * bias averages to 0) the ratio would be noise too, and the row is left at z * w instead of being blown up.
     */
    static NDArray emphasis(NDArray z, List<ChunkedPrompt> rows, int c, NDManager scope) {
        int batch = rows.size();
        int length = rows.get(0).chunkLength();
        float[] w = new float[batch * length];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(rows.get(b).weightsOf(c), 0, w, b * length, length);
        }
        // (B, L, D) * (B, L, 1); means over (L, D) per row -> (B,) (the engine reduces one axis at a time)
        NDArray weighted = z.mul(scope.create(w, new Shape(batch, length, 1)));
        NDArray flat = weighted.reshape(batch, -1);
        float[] before = z.reshape(batch, -1).mean(new int[] {1}).toFloatArray();
        float[] after = flat.mean(new int[] {1}).toFloatArray();
        float[] rms = flat.square().mean(new int[] {1}).sqrt().toFloatArray();
        float[] factor = new float[batch];
        for (int b = 0; b < batch; b++) {
            float f = before[b] / after[b];
            factor[b] = Math.abs(after[b]) > NEGLIGIBLE_MEAN * rms[b] && Float.isFinite(f) ? f : 1f;
        }
        return weighted.mul(scope.create(factor, new Shape(batch, 1, 1)));
    }

    /** A row mean below this share of the row's root mean square is rounding noise. */
    static final double NEGLIGIBLE_MEAN = 1e-5;

    /**
     * Chunk c's embedding vectors of every row as the encoder takes them: (B, L, D) true where a position has a vector,
     * and (B, L, D) the vectors there, 0 elsewhere.
     */
    private static NDArray[] vectors(List<ChunkedPrompt> rows, int c, ClipTextModel encoder, NDManager scope) {
        int batch = rows.size();
        int length = rows.get(0).chunkLength();
        int d = encoder.config().hiddenSize();
        boolean[] mask = new boolean[batch * length * d];
        float[] values = new float[batch * length * d];
        for (int b = 0; b < batch; b++) {
            float[][] v = rows.get(b).vectorsOf(c);
            for (int i = 0; i < length; i++) {
                if (v[i] != null) {
                    int at = (b * length + i) * d;
                    java.util.Arrays.fill(mask, at, at + d, true);
                    System.arraycopy(v[i], 0, values, at, d);
                }
            }
        }
        Shape shape = new Shape(batch, length, d);
        return new NDArray[] {scope.create(mask, shape), scope.create(values, shape)};
    }
}
