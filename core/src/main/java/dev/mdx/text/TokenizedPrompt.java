package dev.mdx.text;

/**
 * One prompt as the text encoder takes it: BOS, tokens, EOS, padding, all of the configured length.
 *
 * @param inputIds ids, padded with the pad id
 * @param attentionMask 1 for BOS..EOS, 0 for padding
 * @param untruncatedLength how many ids (with BOS and EOS) the prompt needs in full; longer than
 *     {@code inputIds.length} means the end of the prompt was dropped
 */
public record TokenizedPrompt(int[] inputIds, int[] attentionMask, int untruncatedLength) {

    public TokenizedPrompt {
        inputIds = inputIds.clone();
        attentionMask = attentionMask.clone();
        if (inputIds.length != attentionMask.length) {
            throw new IllegalArgumentException("ids and mask differ in length");
        }
    }

    @Override
    public int[] inputIds() {
        return inputIds.clone();
    }

    @Override
    public int[] attentionMask() {
        return attentionMask.clone();
    }

    /** Whether tokens had to be dropped to fit; callers should warn the user. */
    public boolean truncated() {
        return untruncatedLength > inputIds.length;
    }

    /** Ids as the int64 row the text encoder reads. */
    public long[] inputIdsAsLongs() {
        long[] out = new long[inputIds.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = inputIds[i];
        }
        return out;
    }
}
