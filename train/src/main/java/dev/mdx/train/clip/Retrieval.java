package dev.mdx.train.clip;

/**
 * Top-k retrieval accuracy from a score matrix: rows are queries, columns are candidates, and each query and
 * candidate carries a group (a caption or label id). A query is a hit at k when one of its k best-scoring candidates
 * is in its group. Equal scores rank the lower column first, so results are deterministic.
 *
 * <p>Image-to-text (zero-shot classification): queries are images, candidates the distinct captions. Text-to-image:
 * queries are the captions, candidates the images, so a caption hits when any image of it is among the top k.
 */
public final class Retrieval {
    private Retrieval() {}

    /** Top-1 and top-5 accuracy of one direction, over {@code queries} queries. */
    public record Accuracy(double top1, double top5, int queries) {}

    /**
     * @param scores [query][candidate] similarities
     * @param queryGroups group of each query
     * @param candidateGroups group of each candidate
     * @return the fraction of queries with a same-group candidate among their {@code k} best
     */
    public static double topK(double[][] scores, int[] queryGroups, int[] candidateGroups, int k) {
        if (scores.length != queryGroups.length) {
            throw new IllegalArgumentException(scores.length + " score rows for " + queryGroups.length + " queries");
        }
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, got " + k);
        }
        int hits = 0;
        for (int q = 0; q < scores.length; q++) {
            double[] row = scores[q];
            if (row.length != candidateGroups.length) {
                throw new IllegalArgumentException("score row " + q + " has " + row.length + " columns for "
                        + candidateGroups.length + " candidates");
            }
            if (rankOfFirstMatch(row, candidateGroups, queryGroups[q]) < k) {
                hits++;
            }
        }
        return scores.length == 0 ? 0 : (double) hits / scores.length;
    }

    public static Accuracy accuracy(double[][] scores, int[] queryGroups, int[] candidateGroups) {
        return new Accuracy(topK(scores, queryGroups, candidateGroups, 1),
                topK(scores, queryGroups, candidateGroups, 5), scores.length);
    }

    /** How many candidates rank above the best same-group candidate (0 = it is first); MAX_VALUE when none. */
    static int rankOfFirstMatch(double[] row, int[] candidateGroups, int group) {
        int best = -1;
        for (int c = 0; c < row.length; c++) {
            if (candidateGroups[c] == group && (best < 0 || row[c] > row[best])) {
                best = c;
            }
        }
        if (best < 0) {
            return Integer.MAX_VALUE;
        }
        int above = 0;
        for (int c = 0; c < row.length; c++) {
            if (candidateGroups[c] != group && (row[c] > row[best] || (row[c] == row[best] && c < best))) {
                above++;
            }
        }
        return above;
    }

    /** Cosine similarities of every row of {@code a} with every row of {@code b}. */
    public static double[][] cosine(float[][] a, float[][] b) {
        double[][] an = unit(a);
        double[][] bn = unit(b);
        double[][] out = new double[a.length][b.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b.length; j++) {
                double s = 0;
                for (int d = 0; d < an[i].length; d++) {
                    s += an[i][d] * bn[j][d];
                }
                out[i][j] = s;
            }
        }
        return out;
    }

    /** The transpose of a score matrix (candidates become queries). */
    public static double[][] transpose(double[][] m) {
        int rows = m.length;
        int cols = rows == 0 ? 0 : m[0].length;
        double[][] t = new double[cols][rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j][i] = m[i][j];
            }
        }
        return t;
    }

    /** Each row scaled to unit length (a zero row stays zero). */
    public static double[][] unit(float[][] x) {
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            double norm = 0;
            for (float v : x[i]) {
                norm += (double) v * v;
            }
            norm = Math.sqrt(norm);
            out[i] = new double[x[i].length];
            for (int d = 0; d < x[i].length; d++) {
                out[i][d] = norm == 0 ? 0 : x[i][d] / norm;
            }
        }
        return out;
    }
}
