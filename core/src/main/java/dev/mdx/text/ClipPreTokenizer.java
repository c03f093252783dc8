package dev.mdx.text;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's pre-tokenisation, shared by {@link ClipTokenizer} and by code that learns a BPE vocabulary: the text is
 * normalised ({@link ClipTextNormalizer}), split into words by CLIP's regex, and each word is written in the
 * byte-level alphabet ({@link ByteLevelAlphabet}). BPE then works inside each word, whose last symbol carries
 * {@link #END_OF_WORD}.
 */
public final class ClipPreTokenizer {
    /** Marks the last symbol of a word; {@code </w>} becomes a space when decoding. */
    public static final String END_OF_WORD = BytePairEncoder.END_OF_WORD;

    /** CLIP's word pattern; the two special-token alternatives are hard-coded in the reference too. */
    private static final Pattern WORDS = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);

    private ClipPreTokenizer() {}

    /** The words of {@code text} (no special tokens cut out), each in the byte-level alphabet. */
    public static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = WORDS.matcher(ClipTextNormalizer.normalize(text));
        while (m.find()) {
            out.add(ByteLevelAlphabet.encode(m.group()));
        }
        return out;
    }

    /** The words of {@code text} as plain text, as {@link #words} finds them (normalised, not byte-encoded). */
    public static List<String> plainWords(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = WORDS.matcher(ClipTextNormalizer.normalize(text));
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /**
     * The 256 one-byte symbols in the order of CLIP's vocabulary: by character, which puts the printable bytes
     * (mapped to themselves) first and the remapped ones (U+0100 onwards, in byte order) after them.
     */
    public static List<String> alphabet() {
        List<String> out = new ArrayList<>(256);
        for (int b = 0; b < 256; b++) {
            out.add(ByteLevelAlphabet.encode(b));
        }
        out.sort(null);
        return out;
    }
}
