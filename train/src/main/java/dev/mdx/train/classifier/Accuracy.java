package dev.mdx.train.classifier;

/** Classification accuracy: overall and per class. */
public final class Accuracy {
    private Accuracy() {}

    /** The fraction of {@code predicted} equal to {@code truth} (0 for no items). */
    public static double of(int[] predicted, int[] truth) {
        check(predicted, truth);
        int hits = 0;
        for (int i = 0; i < truth.length; i++) {
            if (predicted[i] == truth[i]) {
                hits++;
            }
        }
        return truth.length == 0 ? 0 : (double) hits / truth.length;
    }

    /** Accuracy within each true class {@code 0..classes-1}; NaN for a class without items. */
    public static double[] perClass(int[] predicted, int[] truth, int classes) {
        check(predicted, truth);
        int[] hits = new int[classes];
        int[] counts = new int[classes];
        for (int i = 0; i < truth.length; i++) {
            counts[truth[i]]++;
            if (predicted[i] == truth[i]) {
                hits[truth[i]]++;
            }
        }
        double[] out = new double[classes];
        for (int c = 0; c < classes; c++) {
            out[c] = counts[c] == 0 ? Double.NaN : (double) hits[c] / counts[c];
        }
        return out;
    }

    private static void check(int[] predicted, int[] truth) {
        if (predicted.length != truth.length) {
            throw new IllegalArgumentException(predicted.length + " predictions for " + truth.length + " labels");
        }
    }
}
