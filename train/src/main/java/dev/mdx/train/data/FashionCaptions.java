package dev.mdx.train.data;

import java.util.List;

/**
 * Class names and captions of Fashion-MNIST. Labels are the official class names; captions use a plain noun
 * ("sneaker", "trousers") with its article ("a sneaker", "a pair of trousers") in a few templates; the first
 * caption is the canonical one.
 */
public final class FashionCaptions {
    /** Official class names, indexed by label. */
    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    private static final List<String> NOUNS = List.of(
            "t-shirt", "trousers", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot");
    private static final List<String> WITH_ARTICLE = List.of(
            "a t-shirt", "a pair of trousers", "a pullover", "a dress", "a coat", "a sandal", "a shirt", "a sneaker",
            "a bag", "an ankle boot");
    private static final List<String> TEMPLATES = List.of(
            "a photo of {a}", "{noun}", "{a}", "a black and white photo of {a}", "a grayscale image of {a}",
            "a small picture of {a}");

    private FashionCaptions() {}

    public static List<String> captions(int classId) {
        checkClass(classId);
        return TEMPLATES.stream()
                .map(t -> t.replace("{a}", WITH_ARTICLE.get(classId)).replace("{noun}", NOUNS.get(classId)))
                .toList();
    }

    static void checkClass(int classId) {
        if (classId < 0 || classId >= CLASS_NAMES.size()) {
            throw new DatasetException("Fashion-MNIST label " + classId + " is not in 0.." + (CLASS_NAMES.size() - 1));
        }
    }
}
