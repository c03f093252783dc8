package dev.mdx.train.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Jacobi eigen-decomposition, matrix square root and Frechet distance against cases with known answers. */
class FrechetDistanceTest {
    private static double[][] randomSpd(int n, Random r) {
        double[][] x = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                x[i][j] = r.nextGaussian();
            }
        }
        double[][] a = FrechetDistance.multiply(x, transpose(x));
        for (int i = 0; i < n; i++) {
            a[i][i] += 0.1;
        }
        return a;
    }

    private static double[][] transpose(double[][] m) {
        return Retrieval.transpose(m);
    }

    private static double maxAbsDiff(double[][] a, double[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return max;
    }

    @Test
    void eigenvaluesOfTheSecondDifferenceMatrix() {
        // tridiag(-1, 2, -1) of size n has eigenvalues 2 - 2 cos(k pi / (n + 1)), k = 1..n
        int n = 40;
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            a[i][i] = 2;
            if (i > 0) {
                a[i][i - 1] = -1;
                a[i - 1][i] = -1;
            }
        }
        double[] values = SymmetricEigen.of(a).values();
        double max = 0;
        for (int k = 1; k <= n; k++) {
            max = Math.max(max, Math.abs(values[k - 1] - (2 - 2 * Math.cos(k * Math.PI / (n + 1)))));
        }
        System.out.printf("Jacobi eigenvalues of tridiag(-1,2,-1) n=%d: max abs error %.3e%n", n, max);
        assertTrue(max < 1e-12, "max error " + max);
    }

    @Test
    void decompositionReconstructsAndSquareRootSquares() {
        Random r = new Random(11);
        double[][] a = randomSpd(64, r);
        SymmetricEigen e = SymmetricEigen.of(a);
        double reconstruction = maxAbsDiff(a, e.apply(x -> x));
        double[][] vtv = FrechetDistance.multiply(transpose(e.vectors()), e.vectors());
        double[][] identity = new double[64][64];
        for (int i = 0; i < 64; i++) {
            identity[i][i] = 1;
        }
        double orthogonality = maxAbsDiff(vtv, identity);
        double[][] root = SymmetricEigen.sqrtPsd(a);
        double square = maxAbsDiff(a, FrechetDistance.multiply(root, root));
        System.out.printf("Jacobi 64x64 SPD: reconstruction %.3e, V^T V - I %.3e, sqrt^2 - A %.3e%n",
                reconstruction, orthogonality, square);
        assertTrue(reconstruction < 1e-10 && orthogonality < 1e-12 && square < 1e-10);
        for (int k = 1; k < 64; k++) {
            assertTrue(e.values()[k - 1] <= e.values()[k], "ascending");
        }
        assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(new double[][] {{1, 2}, {0, 1}}));
    }

    @Test
    void distanceOfNonCommutingTwoByTwoGaussians() {
        // for 2x2 SPD M, Tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)); with M = A^1/2 B A^1/2: tr M = tr(AB), det M = det A det B
        double[][] a = {{2.0, 0.3}, {0.3, 0.5}};
        double[][] b = {{1.0, -0.4}, {-0.4, 3.0}};
        double[] ma = {0.5, -1.0};
        double[] mb = {1.5, 2.0};
        double trAB = a[0][0] * b[0][0] + a[0][1] * b[1][0] + a[1][0] * b[0][1] + a[1][1] * b[1][1];
        double detA = a[0][0] * a[1][1] - a[0][1] * a[1][0];
        double detB = b[0][0] * b[1][1] - b[0][1] * b[1][0];
        double expected = 1.0 + 9.0 + (2.5 + 4.0) - 2 * Math.sqrt(trAB + 2 * Math.sqrt(detA * detB));
        double actual = FrechetDistance.between(new FrechetDistance.Gaussian(ma, a), new FrechetDistance.Gaussian(mb, b));
        System.out.printf("Frechet 2x2 non-commuting: expected %.15f, got %.15f, error %.3e%n", expected, actual,
                Math.abs(expected - actual));
        assertEquals(expected, actual, 1e-12);
        // symmetric in its arguments
        assertEquals(actual, FrechetDistance.between(new FrechetDistance.Gaussian(mb, b),
                new FrechetDistance.Gaussian(ma, a)), 1e-12);
    }

    @Test
    void distanceOfRotatedDiagonalGaussians() {
        // S1 = R diag(a) R^T, S2 = R diag(b) R^T commute: d^2 = |dmu|^2 + sum (sqrt a_i - sqrt b_i)^2
        Random r = new Random(5);
        int n = 24;
        double[][] q = SymmetricEigen.of(randomSpd(n, r)).vectors();
        double[] da = new double[n];
        double[] db = new double[n];
        double[] ma = new double[n];
        double[] mb = new double[n];
        double expected = 0;
        for (int i = 0; i < n; i++) {
            da[i] = 0.1 + r.nextDouble() * 3;
            db[i] = 0.1 + r.nextDouble() * 3;
            ma[i] = r.nextGaussian();
            mb[i] = r.nextGaussian();
            expected += Math.pow(ma[i] - mb[i], 2) + Math.pow(Math.sqrt(da[i]) - Math.sqrt(db[i]), 2);
        }
        double actual = FrechetDistance.between(new FrechetDistance.Gaussian(ma, rotate(q, da)),
                new FrechetDistance.Gaussian(mb, rotate(q, db)));
        System.out.printf("Frechet %dx%d rotated diagonal: expected %.12f, error %.3e%n", n, n, expected,
                Math.abs(expected - actual));
        assertEquals(expected, actual, 1e-9);
    }

    private static double[][] rotate(double[][] q, double[] diag) {
        int n = diag.length;
        double[][] d = new double[n][n];
        for (int i = 0; i < n; i++) {
            d[i][i] = diag[i];
        }
        return FrechetDistance.multiply(FrechetDistance.multiply(q, d), transpose(q));
    }

    @Test
    void fitFromSamplesMatchesNumpyConventions() {
        // numpy: mean and cov(rowvar=False) with N - 1
        float[][] x = {{1, 2}, {3, 5}, {4, 4}, {0, -1}};
        FrechetDistance.Gaussian g = FrechetDistance.fit(x);
        assertEquals(2.0, g.mean()[0], 1e-12);
        assertEquals(2.5, g.mean()[1], 1e-12);
        // cov xx = (1+1+4+4)/3, xy = ((-1)(-0.5)+(1)(2.5)+(2)(1.5)+(-2)(-3.5))/3, yy = (0.25+6.25+2.25+12.25)/3
        assertEquals(10.0 / 3, g.covariance()[0][0], 1e-12);
        assertEquals(13.0 / 3, g.covariance()[0][1], 1e-12);
        assertEquals(21.0 / 3, g.covariance()[1][1], 1e-12);

        Random r = new Random(2);
        float[][] a = new float[300][16];
        float[][] shifted = new float[300][16];
        for (int i = 0; i < a.length; i++) {
            for (int d = 0; d < 16; d++) {
                a[i][d] = (float) r.nextGaussian();
                shifted[i][d] = a[i][d] + 1;
            }
        }
        double self = FrechetDistance.between(a, a);
        System.out.printf("Frechet of a set with itself: %.3e; with itself shifted by 1 in 16 dims: %.12f%n", self,
                FrechetDistance.between(a, shifted));
        assertEquals(0, self, 1e-9);
        // a pure shift changes only the mean term
        assertEquals(16.0, FrechetDistance.between(a, shifted), 1e-5);
    }
}
