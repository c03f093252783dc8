package dev.mdx.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.prompt.PromptAttention.Fragment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A1111's parse_prompt_attention: its docstring examples, and the edge cases of its regular expression. */
class PromptAttentionTest {
    private static Fragment f(String text, double weight) {
        return new Fragment(text, weight);
    }

    private static void assertParse(String prompt, Fragment... expected) {
        List<Fragment> got = PromptAttention.parse(prompt);
        assertEquals(expected.length, got.size(), prompt + " -> " + got);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i].text(), got.get(i).text(), prompt + " fragment " + i);
            assertEquals(expected[i].weight(), got.get(i).weight(), 1e-12, prompt + " weight of fragment " + i);
        }
    }

    @Test
    void docstringExamplesOfA1111() {
        assertParse("normal text", f("normal text", 1.0));
        assertParse("an (important) word", f("an ", 1.0), f("important", 1.1), f(" word", 1.0));
        assertParse("(unbalanced", f("unbalanced", 1.1));
        assertParse("\\(literal\\]", f("(literal]", 1.0));
        assertParse("(unnecessary)(parens)", f("unnecessaryparens", 1.1));
        assertParse("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
                f("a ", 1.0), f("house", 1.5730000000000004), f(" ", 1.1), f("on", 1.0), f(" a ", 1.1),
                f("hill", 0.55), f(", sun, ", 1.1), f("sky", 1.4641000000000006), f(".", 1.1));
    }

    @Test
    void weightsAreExactlyA1111sProducts() {
        // the same float products Python computes, in the same order
        assertEquals(1.3 * 1.1 * 1.1, PromptAttention.parse("(((house:1.3)))").get(0).weight());
        assertEquals(1 / 1.1, PromptAttention.parse("[x]").get(0).weight());
        assertEquals(1.1 * (1 / 1.1), PromptAttention.parse("([x])").get(0).weight());
    }

    @Test
    void squareBracketsAndUnbalancedOnes() {
        assertParse("[unbalanced", f("unbalanced", 1 / 1.1));
        assertParse("a ) b ] c", f("a ) b ] c", 1.0));
        assertParse("((a)", f("a", 1.1 * 1.1));
        assertParse("(a:0.5", f("a:0.5", 1.1));
    }

    @Test
    void escapesAndBackslashes() {
        assertParse("\\(a\\) \\[b\\]", f("(a) [b]", 1.0));
        assertParse("c:\\\\d", f("c:\\d", 1.0));
        // a backslash before anything else is dropped, as A1111's lone-backslash alternative does
        assertParse("a\\b", f("ab", 1.0));
        assertParse("(\\(x\\):2)", f("(x)", 2.0));
    }

    @Test
    void colonsThatAreNotWeightsStayText() {
        assertParse("time: 12:30", f("time: 12:30", 1.0));
        assertParse("(a:b)", f("a:b", 1.1));
        assertParse("(a: 2 )", f("a", 2.0));
        assertParse("(a:-1)", f("a", -1.0));
        assertThrows(IllegalArgumentException.class, () -> PromptAttention.parse("(a:1.2.3)"));
    }

    @Test
    void breakSplitsAndEmptyIsOneFragment() {
        List<Fragment> p = PromptAttention.parse("a cat BREAK a dog");
        assertEquals(3, p.size());
        assertEquals("a cat", p.get(0).text());
        assertTrue(p.get(1).isBreak());
        assertEquals("a dog", p.get(2).text());
        assertParse("BREAKFAST", f("BREAKFAST", 1.0));
        assertParse("", f("", 1.0));
        assertParse("()", f("", 1.0));
    }

    @Test
    void weightOneMergesBackIntoThePlainText() {
        assertParse("a (red:1.0) apple", f("a red apple", 1.0));
        assertTrue(PromptAttention.isPlain(PromptAttention.parse("a red apple"), "a red apple"));
    }
}
