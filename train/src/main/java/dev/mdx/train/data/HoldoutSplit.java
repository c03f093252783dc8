package dev.mdx.train.data;

/**
 * The deterministic train/test split of the emoji set. A base emoji is held out with probability
 * {@code emojiFraction} together with all its styles and skin tones (tests generalisation to unseen
 * concepts); of the others, each (emoji, style) pair is held out with probability {@code pairFraction}, again with
 * all its skin tones (tests composing a seen concept with a seen style). The decision hashes only the seed, the
 * base emoji's code points and the style, so it does not move when sets gain or lose icons.
 */
public record HoldoutSplit(long seed, double emojiFraction, double pairFraction) {
    public enum Holdout {
        NONE, EMOJI, PAIR;

        /** The manifest's name for this hold-out, null for a training item. */
        public String manifestName() {
            return this == NONE ? null : name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public HoldoutSplit {
        if (!(emojiFraction >= 0 && emojiFraction <= 1) || !(pairFraction >= 0 && pairFraction <= 1)) {
            throw new IllegalArgumentException("hold-out fractions must be in [0, 1], got " + emojiFraction + " and " + pairFraction);
        }
    }

    public Holdout holdout(String baseHexcode, String style) {
        String base = IconifySet.normalizeHexcode(baseHexcode);
        if (StableHash.unit(seed, "emoji", base) < emojiFraction) {
            return Holdout.EMOJI;
        }
        if (StableHash.unit(seed, "pair", base, style) < pairFraction) {
            return Holdout.PAIR;
        }
        return Holdout.NONE;
    }

    public String split(String baseHexcode, String style) {
        return holdout(baseHexcode, style) == Holdout.NONE ? DatasetItem.TRAIN : DatasetItem.TEST;
    }
}
