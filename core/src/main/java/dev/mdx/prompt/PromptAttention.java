package dev.mdx.prompt;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AUTOMATIC1111's attention syntax ({@code modules/prompt_parser.py}, {@code parse_prompt_attention}), ported
 * match for match: {@code (text)} multiplies the weight of text by 1.1, {@code [text]} divides it by 1.1,
 * {@code (text:1.5)} multiplies it by 1.5, brackets nest by multiplying; {@code \(} {@code \)} {@code \[} {@code \]}
 * and {@code \\} are the literal characters (any other backslash is dropped); a bracket left open weights the rest of
 * the prompt, a closing bracket without an opening one is literal text; {@code BREAK} (upper case, a word of its own)
 * ends the current 75-token chunk. Neighbouring fragments of equal weight are merged.
 */
public final class PromptAttention {
    /** A stretch of prompt text and its weight; {@link #isBreak()} marks a BREAK. */
    public record Fragment(String text, double weight) {
        static final Fragment BREAK = new Fragment("BREAK", -1);

        public boolean isBreak() {
            return weight == -1 && text.equals("BREAK");
        }
    }

    private static final double ROUND = 1.1;
    private static final double SQUARE = 1 / 1.1;

    /** A1111's re_attention, alternative for alternative. */
    private static final Pattern ATTENTION = Pattern.compile(
            "\\\\\\(|\\\\\\)|\\\\\\[|\\\\]|\\\\\\\\|\\\\|\\(|\\[|:\\s*([+-]?[.\\d]+)\\s*\\)|\\)|]|[^\\\\()\\[\\]:]+|:");
    /** A1111's re_break. */
    private static final Pattern BREAK = Pattern.compile("\\s*\\bBREAK\\b\\s*", Pattern.DOTALL);

    private PromptAttention() {}

    /**
     * The prompt as fragments with weights, as A1111 parses it.
     *
     * @throws IllegalArgumentException for a {@code (text:W)} whose W is not a number (A1111 fails on it too)
     */
    public static List<Fragment> parse(String text) {
        List<String> texts = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        Deque<Integer> round = new ArrayDeque<>();
        Deque<Integer> square = new ArrayDeque<>();
        Matcher m = ATTENTION.matcher(text);
        while (m.find()) {
            String t = m.group();
            String weight = m.group(1);
            if (t.startsWith("\\")) {
                texts.add(t.substring(1));
                weights.add(1.0);
            } else if (t.equals("(")) {
                round.push(texts.size());
            } else if (t.equals("[")) {
                square.push(texts.size());
            } else if (weight != null && !round.isEmpty()) {
                multiply(weights, round.pop(), number(weight, t));
            } else if (t.equals(")") && !round.isEmpty()) {
                multiply(weights, round.pop(), ROUND);
            } else if (t.equals("]") && !square.isEmpty()) {
                multiply(weights, square.pop(), SQUARE);
            } else {
                String[] parts = BREAK.split(t, -1);
                for (int i = 0; i < parts.length; i++) {
                    if (i > 0) {
                        texts.add(Fragment.BREAK.text());
                        weights.add(Fragment.BREAK.weight());
                    }
                    texts.add(parts[i]);
                    weights.add(1.0);
                }
            }
        }
        // brackets left open weight the rest, outermost first as A1111 walks its list
        for (var it = round.descendingIterator(); it.hasNext(); ) {
            multiply(weights, it.next(), ROUND);
        }
        for (var it = square.descendingIterator(); it.hasNext(); ) {
            multiply(weights, it.next(), SQUARE);
        }
        if (texts.isEmpty()) {
            texts.add("");
            weights.add(1.0);
        }
        List<Fragment> out = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            if (!out.isEmpty() && out.get(out.size() - 1).weight() == weights.get(i)) {
                Fragment last = out.remove(out.size() - 1);
                out.add(new Fragment(last.text() + texts.get(i), last.weight()));
            } else {
                out.add(new Fragment(texts.get(i), weights.get(i)));
            }
        }
        return List.copyOf(out);
    }

    /** Whether the prompt uses any of the syntax (so its parse differs from the plain text at weight 1). */
    public static boolean isPlain(List<Fragment> fragments, String text) {
        return fragments.size() == 1 && fragments.get(0).weight() == 1.0 && fragments.get(0).text().equals(text);
    }

    private static void multiply(List<Double> weights, int from, double by) {
        for (int p = from; p < weights.size(); p++) {
            weights.set(p, weights.get(p) * by);
        }
    }

    private static double number(String weight, String match) {
        try {
            return Double.parseDouble(weight);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the weight in '" + match + "' is not a number; write (text:1.2)");
        }
    }
}
