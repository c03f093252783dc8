package dev.mdx.text;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The text clean-up of transformers' slow CLIPTokenizer when ftfy is not installed, which is
 * {@code " ".join(BasicTokenizer(strip_accents=False, do_split_on_punc=False).tokenize(text))}: drop NUL, U+FFFD
 * and every other category-C character except tab, newline and carriage return, which become spaces like every
 * Zs character; put spaces around CJK ideographs; NFC-normalise; split on whitespace; lower-case each piece
 * (full Unicode mapping, so U+0130 becomes "i" + U+0307); join with single spaces.
 */
final class ClipTextNormalizer {
    /** The CJK ideograph blocks BasicTokenizer isolates (kana and hangul are not among them). */
    private static final int[][] CJK_RANGES = {
        {0x4E00, 0x9FFF}, {0x3400, 0x4DBF}, {0x20000, 0x2A6DF}, {0x2A700, 0x2B73F}, {0x2B740, 0x2B81F},
        {0x2B820, 0x2CEAF}, {0xF900, 0xFAFF}, {0x2F800, 0x2FA1F}};

    private ClipTextNormalizer() {}

    static String normalize(String text) {
        StringBuilder cleaned = new StringBuilder(text.length() + 8);
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                return;
            }
            if (isWhitespace(cp)) {
                cleaned.append(' ');
            } else if (isCjk(cp)) {
                cleaned.append(' ').appendCodePoint(cp).append(' ');
            } else {
                cleaned.appendCodePoint(cp);
            }
        });
        String nfc = Normalizer.normalize(cleaned, Normalizer.Form.NFC);
        List<String> pieces = new ArrayList<>();
        for (String piece : PythonText.split(nfc)) {
            pieces.addAll(PythonText.split(piece.toLowerCase(Locale.ROOT)));
        }
        return String.join(" ", pieces);
    }

    /** BasicTokenizer's _is_whitespace: space, \t, \n, \r and category Zs. */
    private static boolean isWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    /** BasicTokenizer's _is_control: any category C* (Cc, Cf, Cs, Co, Cn) except \t, \n, \r. */
    private static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        int type = Character.getType(cp);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.SURROGATE
                || type == Character.PRIVATE_USE || type == Character.UNASSIGNED;
    }

    private static boolean isCjk(int cp) {
        for (int[] r : CJK_RANGES) {
            if (cp >= r[0] && cp <= r[1]) {
                return true;
            }
        }
        return false;
    }
}
