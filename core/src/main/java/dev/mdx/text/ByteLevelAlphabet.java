package dev.mdx.text;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2/CLIP {@code bytes_to_unicode}: every byte value gets a printable character so that BPE can work on
 * strings without whitespace or control characters. Printable Latin-1 bytes map to themselves; the other 68
 * bytes map, in byte order, to U+0100 onwards.
 */
final class ByteLevelAlphabet {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE;

    static {
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            printable[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            printable[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            printable[b] = true;
        }
        int next = 256;
        int maxChar = 0;
        for (int b = 0; b < 256; b++) {
            BYTE_TO_CHAR[b] = (char) (printable[b] ? b : next++);
            maxChar = Math.max(maxChar, BYTE_TO_CHAR[b]);
        }
        CHAR_TO_BYTE = new int[maxChar + 1];
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        for (int b = 0; b < 256; b++) {
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevelAlphabet() {}

    /** The UTF-8 bytes of {@code text}, one alphabet character per byte. */
    static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /** The alphabet character of one byte value (0..255), as a string. */
    static String encode(int byteValue) {
        return String.valueOf(BYTE_TO_CHAR[byteValue]);
    }

    /**
     * Appends the bytes that {@code symbols} stands for. A character outside the alphabet (only possible in a
     * hand-made added token) contributes its own UTF-8 bytes.
     */
    static void decodeInto(String symbols, java.io.ByteArrayOutputStream out) {
        for (int i = 0; i < symbols.length(); i++) {
            char c = symbols.charAt(i);
            if (c < CHAR_TO_BYTE.length && CHAR_TO_BYTE[c] >= 0) {
                out.write(CHAR_TO_BYTE[c]);
            } else {
                int cp = symbols.codePointAt(i);
                byte[] raw = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                out.write(raw, 0, raw.length);
                i += Character.charCount(cp) - 1;
            }
        }
    }
}
