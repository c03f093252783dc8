package dev.mdx.train.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The loss against a plain double-precision Java reference written from CLIP's pseudo-code. */
class ContrastiveLossTest {
    private static double reference(float[] img, float[] txt, int b, int p, double scale, int[] groups) {
        double[][] logits = new double[b][b];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                double dot = 0;
                double ni = 0;
                double nj = 0;
                for (int d = 0; d < p; d++) {
                    dot += (double) img[i * p + d] * txt[j * p + d];
                    ni += (double) img[i * p + d] * img[i * p + d];
                    nj += (double) txt[j * p + d] * txt[j * p + d];
                }
                logits[i][j] = scale * dot / Math.sqrt(ni) / Math.sqrt(nj);
            }
        }
        double rows = 0;
        double cols = 0;
        for (int i = 0; i < b; i++) {
            int count = 0;
            for (int j = 0; j < b; j++) {
                count += groups[i] == groups[j] ? 1 : 0;
            }
            double lseRow = 0;
            double lseCol = 0;
            for (int j = 0; j < b; j++) {
                lseRow += Math.exp(logits[i][j]);
                lseCol += Math.exp(logits[j][i]);
            }
            for (int j = 0; j < b; j++) {
                if (groups[i] == groups[j]) {
                    rows -= (logits[i][j] - Math.log(lseRow)) / count;
                    cols -= (logits[j][i] - Math.log(lseCol)) / count;
                }
            }
        }
        return (rows / b + cols / b) / 2;
    }

    @Test
    void matchesTheReferenceWithDistinctAndSharedGroups() {
        Random r = new Random(8);
        int b = 6;
        int p = 5;
        float[] img = new float[b * p];
        float[] txt = new float[b * p];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) r.nextGaussian();
            txt[i] = (float) r.nextGaussian();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            for (int[] groups : new int[][] {{0, 1, 2, 3, 4, 5}, {0, 1, 0, 2, 1, 0}}) {
                NDArray loss = ContrastiveLoss.symmetricInfoNce(m.create(img, new Shape(b, p)),
                        m.create(txt, new Shape(b, p)), m.create(new float[] {14.3f}), groups);
                double expected = reference(img, txt, b, p, 14.3, groups);
                System.out.printf("InfoNCE groups %s: expected %.7f, got %.7f, error %.2e%n",
                        java.util.Arrays.toString(groups), expected, loss.getFloat(), Math.abs(expected - loss.getFloat()));
                assertEquals(expected, loss.getFloat(), 1e-5);
            }
            // aligned unit embeddings with a large scale: the loss goes to 0; a constant embedding gives log B
            float[] eye = new float[b * b];
            for (int i = 0; i < b; i++) {
                eye[i * b + i] = 1;
            }
            NDArray e = m.create(eye, new Shape(b, b));
            float aligned = ContrastiveLoss.symmetricInfoNce(e, e, m.create(new float[] {100f}),
                    new int[] {0, 1, 2, 3, 4, 5}).getFloat();
            assertTrue(aligned < 1e-6, "aligned loss " + aligned);
            NDArray same = m.ones(new Shape(b, b));
            assertEquals(Math.log(b), ContrastiveLoss.symmetricInfoNce(same, same, m.create(new float[] {10f}),
                    new int[] {0, 1, 2, 3, 4, 5}).getFloat(), 1e-5);
        }
    }
}
