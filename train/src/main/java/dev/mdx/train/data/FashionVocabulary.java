package dev.mdx.train.data;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Fashion-MNIST captions in the words people type (caption set v2): per class the singular and plural, common
 * synonyms and regional names ("trousers", "pants", "jeans", "slacks"; "sneakers", "trainers", "running shoes"),
 * in a set of training templates. A second, disjoint set of templates makes the held-out paraphrases: prompts never
 * seen in training that a model should still follow. The canonical caption is v1's ("a photo of a sneaker"), so
 * evaluations compare across caption sets.
 */
public final class FashionVocabulary {
    /** Captions per item: the canonical one plus this many variants drawn from the class's pool. */
    static final int VARIANTS_PER_ITEM = 7;

    /** One way to name a class: the bare phrase ("jeans") and the phrase with its article ("a pair of jeans"). */
    record Noun(String bare, String withArticle) {}

    private static final List<List<Noun>> NOUNS = List.of(
            nouns("t-shirt", "a t-shirt", "t-shirts", "t-shirts", "tee", "a tee", "tees", "tees", "tshirt", "a tshirt",
                    "top", "a top", "tops", "tops", "tee shirt", "a tee shirt"),
            nouns("trousers", "a pair of trousers", "trouser", "a trouser", "pants", "a pair of pants", "jeans",
                    "a pair of jeans", "slacks", "a pair of slacks", "pant", "a pant", "leggings", "leggings",
                    "chinos", "a pair of chinos"),
            nouns("pullover", "a pullover", "pullovers", "pullovers", "sweater", "a sweater", "sweaters", "sweaters",
                    "jumper", "a jumper", "jumpers", "jumpers", "sweatshirt", "a sweatshirt", "knit sweater",
                    "a knit sweater"),
            nouns("dress", "a dress", "dresses", "dresses", "gown", "a gown", "frock", "a frock", "sundress",
                    "a sundress", "summer dress", "a summer dress"),
            nouns("coat", "a coat", "coats", "coats", "jacket", "a jacket", "jackets", "jackets", "overcoat",
                    "an overcoat", "parka", "a parka", "winter coat", "a winter coat"),
            nouns("sandal", "a sandal", "sandals", "a pair of sandals", "flip-flops", "a pair of flip-flops",
                    "flip flop", "a flip flop", "slide sandal", "a slide sandal", "summer shoe", "a summer shoe"),
            nouns("shirt", "a shirt", "shirts", "shirts", "button-up shirt", "a button-up shirt", "blouse",
                    "a blouse", "blouses", "blouses", "dress shirt", "a dress shirt", "button-down", "a button-down"),
            nouns("sneaker", "a sneaker", "sneakers", "a pair of sneakers", "trainers", "a pair of trainers",
                    "trainer", "a trainer", "running shoe", "a running shoe", "running shoes", "running shoes",
                    "tennis shoe", "a tennis shoe", "kicks", "kicks"),
            nouns("bag", "a bag", "bags", "bags", "handbag", "a handbag", "handbags", "handbags", "purse", "a purse",
                    "purses", "purses", "tote bag", "a tote bag", "shoulder bag", "a shoulder bag"),
            nouns("ankle boot", "an ankle boot", "ankle boots", "a pair of ankle boots", "boot", "a boot", "boots",
                    "a pair of boots", "bootie", "a bootie", "chelsea boot", "a chelsea boot", "short boot",
                    "a short boot"));

    /** Training templates: {a} the noun with its article, {n} the bare noun. The first gives the canonical caption. */
    static final List<String> TRAIN_TEMPLATES = List.of(
            "a photo of {a}", "{n}", "{a}", "a black and white photo of {a}", "a grayscale image of {a}",
            "a small picture of {a}", "a picture of {a}", "a photo of my {n}", "{n}, black and white",
            "a product photo of {a}", "an image of {a}", "a blurry photo of {a}");
    /**
     * Caption set v3's further training frames: generic ways of captioning a picture of a thing (quality, framing,
     * possession, short phrases), none of them a held-out template (checked at build time and in the tests).
     */
    static final List<String> MORE_TRAIN_TEMPLATES = List.of(
            "a good photo of {a}", "a bad photo of {a}", "a dark photo of {a}", "a bright photo of {a}",
            "a cropped photo of {a}", "a pixelated photo of {a}", "a jpeg photo of {a}", "an old photo of {a}",
            "a photo of the {n}", "the {n}", "this is {a}", "there is {a} in the picture", "my new {n}",
            "a photo of their {n}", "her {n}", "his {n}", "{a} for sale", "{a}, shop photo", "{a}, centered",
            "{a} in the middle of the frame", "a tiny image of {a}", "a thumbnail of {a}", "a scan of {a}",
            "a gray photo of {a}", "a rendering of {a}", "a simple picture of {a}", "picture: {a}", "photo of {a}",
            "an item: {a}", "{n} photo");
    /** Held-out templates: no caption of the set uses them (checked at build time). */
    static final List<String> HELD_OUT_TEMPLATES = List.of(
            "a low resolution photo of {a}", "{a} on a black background", "a close-up photo of {a}",
            "a monochrome picture of {a}", "someone's {n}", "a catalogue image of {a}");

    private FashionVocabulary() {}

    private static List<Noun> nouns(String... pairs) {
        List<Noun> out = new ArrayList<>();
        for (int i = 0; i < pairs.length; i += 2) {
            out.add(new Noun(pairs[i], pairs[i + 1]));
        }
        return List.copyOf(out);
    }

    static List<Noun> nounsOf(int classId) {
        FashionCaptions.checkClass(classId);
        return NOUNS.get(classId);
    }

    static String fill(String template, Noun noun) {
        return template.replace("{a}", noun.withArticle()).replace("{n}", noun.bare());
    }

    /** Every caption set v2 training caption of a class: each training template with each noun, canonical first. */
    public static List<String> pool(int classId) {
        return pool(classId, CaptionSet.V2);
    }

    /** The training captions of a class in caption set v2 or v3 (v3 adds {@link #MORE_TRAIN_TEMPLATES}). */
    public static List<String> pool(int classId, CaptionSet set) {
        Set<String> pool = new LinkedHashSet<>();
        pool.add(FashionCaptions.captions(classId).get(0));
        List<String> templates = new ArrayList<>(TRAIN_TEMPLATES);
        if (set == CaptionSet.V3) {
            templates.addAll(MORE_TRAIN_TEMPLATES);
        } else if (set != CaptionSet.V2) {
            throw new IllegalArgumentException("caption set " + set.id() + " has no vocabulary pool");
        }
        for (String t : templates) {
            for (Noun n : nounsOf(classId)) {
                pool.add(fill(t, n));
            }
        }
        return List.copyOf(pool);
    }

    /**
     * The captions of one item: the canonical caption, then {@value #VARIANTS_PER_ITEM} distinct others from the
     * class's pool, chosen by a stable hash of the item's key, so over the 6,000 items of a class every caption of
     * the pool occurs while the manifest stays small.
     */
    public static List<String> captions(int classId, String itemKey) {
        return captions(classId, itemKey, CaptionSet.V2);
    }

    /** {@link #captions(int, String)} from caption set v2's or v3's pool. */
    public static List<String> captions(int classId, String itemKey, CaptionSet set) {
        List<String> pool = pool(classId, set);
        Set<String> out = new LinkedHashSet<>();
        out.add(pool.get(0));
        int want = Math.min(pool.size(), 1 + VARIANTS_PER_ITEM);
        for (int k = 0; out.size() < want; k++) {
            int pick = 1 + (int) Math.floorMod(StableHash.of(k, itemKey), (long) (pool.size() - 1));
            out.add(pool.get(pick));
        }
        return List.copyOf(out);
    }

    /** The held-out paraphrases of every class: each held-out template with each noun. */
    public static List<HeldOutPrompt> heldOutPrompts() {
        List<HeldOutPrompt> out = new ArrayList<>();
        for (int c = 0; c < NOUNS.size(); c++) {
            for (String t : HELD_OUT_TEMPLATES) {
                for (Noun n : NOUNS.get(c)) {
                    out.add(new HeldOutPrompt(fill(t, n), FashionCaptions.CLASS_NAMES.get(c), c, null));
                }
            }
        }
        return out;
    }
}
