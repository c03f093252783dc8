package dev.mdx.train.eval;

import dev.mdx.control.ConditionType;
import dev.mdx.pipeline.GrayImage;

/**
 * How well a generated image follows a condition map: the same extractor is run on the output and compared with the
 * map. Edges: F1 of edge pixels where a pixel counts as matched when the other map has an edge within
 * {@code tolerance} pixels (Euclidean), the usual boundary-F1 of edge benchmarks. Masks: intersection over union.
 * Two empty maps agree fully (1); an empty map against a non-empty one not at all (0).
 */
public final class ControlAgreement {
    /** The tolerance the docs report edges with. */
    public static final int EDGE_TOLERANCE = 2;

    private ControlAgreement() {}

    /** The agreement {@code type} is measured by: edge F1 within 2 px for Canny, IoU for masks. */
    public static double of(ConditionType type, GrayImage condition, GrayImage output) {
        return type == ConditionType.CANNY ? edgeF1(condition, output, EDGE_TOLERANCE) : iou(condition, output);
    }

    /** Boundary F1 of the non-zero pixels of two maps of one size, matched within {@code tolerance} pixels. */
    public static double edgeF1(GrayImage reference, GrayImage predicted, int tolerance) {
        requireSameSize(reference, predicted);
        int refCount = count(reference);
        int predCount = count(predicted);
        if (refCount == 0 && predCount == 0) {
            return 1;
        }
        if (refCount == 0 || predCount == 0) {
            return 0;
        }
        double precision = (double) matched(predicted, reference, tolerance) / predCount;
        double recall = (double) matched(reference, predicted, tolerance) / refCount;
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
    }

    /** |A and B| / |A or B| of the non-zero pixels. */
    public static double iou(GrayImage a, GrayImage b) {
        requireSameSize(a, b);
        int inter = 0;
        int union = 0;
        for (int i = 0; i < a.values().length; i++) {
            boolean x = a.values()[i] != 0;
            boolean y = b.values()[i] != 0;
            inter += x && y ? 1 : 0;
            union += x || y ? 1 : 0;
        }
        return union == 0 ? 1 : (double) inter / union;
    }

    /** Non-zero pixels of {@code from} with a non-zero pixel of {@code to} within {@code tolerance}. */
    private static int matched(GrayImage from, GrayImage to, int tolerance) {
        int w = from.width();
        int h = from.height();
        int n = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (from.at(x, y) != 0 && near(to, x, y, tolerance)) {
                    n++;
                }
            }
        }
        return n;
    }

    private static boolean near(GrayImage g, int x, int y, int r) {
        for (int dy = -r; dy <= r; dy++) {
            for (int dx = -r; dx <= r; dx++) {
                int nx = x + dx;
                int ny = y + dy;
                if (dx * dx + dy * dy <= r * r && nx >= 0 && ny >= 0 && nx < g.width() && ny < g.height()
                        && g.at(nx, ny) != 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int count(GrayImage g) {
        int n = 0;
        for (byte b : g.values()) {
            n += b != 0 ? 1 : 0;
        }
        return n;
    }

    private static void requireSameSize(GrayImage a, GrayImage b) {
        if (a.width() != b.width() || a.height() != b.height()) {
            throw new IllegalArgumentException("maps of different sizes: " + a.width() + "x" + a.height() + " and "
                    + b.width() + "x" + b.height());
        }
    }
}
