package dev.mdx.train.clip;

/**
 * The Frechet distance between two Gaussians fitted to feature sets (Heusel et al. 2017, the FID formula):
 * d^2 = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)). The trace of the square root uses the symmetric form
 * Tr((S1^(1/2) S2 S1^(1/2))^(1/2)), which has the same eigenvalues as (S1 S2)^(1/2) and needs only symmetric
 * eigen-decompositions ({@link SymmetricEigen}). Covariances are unbiased (divided by N - 1), as numpy's cov.
 */
public final class FrechetDistance {
    private FrechetDistance() {}

    /** Mean and covariance of a feature set. */
    public record Gaussian(double[] mean, double[][] covariance) {
        public int dim() {
            return mean.length;
        }
    }

    /** Fits a Gaussian to {@code features} [sample][dim] (at least 2 samples). */
    public static Gaussian fit(float[][] features) {
        int n = features.length;
        if (n < 2) {
            throw new IllegalArgumentException("need at least 2 feature vectors, got " + n);
        }
        int d = features[0].length;
        double[] mean = new double[d];
        for (float[] f : features) {
            if (f.length != d) {
                throw new IllegalArgumentException("feature vectors of different lengths: " + d + " and " + f.length);
            }
            for (int i = 0; i < d; i++) {
                mean[i] += f[i];
            }
        }
        for (int i = 0; i < d; i++) {
            mean[i] /= n;
        }
        double[][] cov = new double[d][d];
        double[] centered = new double[d];
        for (float[] f : features) {
            for (int i = 0; i < d; i++) {
                centered[i] = f[i] - mean[i];
            }
            for (int i = 0; i < d; i++) {
                double ci = centered[i];
                for (int j = i; j < d; j++) {
                    cov[i][j] += ci * centered[j];
                }
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                cov[i][j] /= n - 1;
                cov[j][i] = cov[i][j];
            }
        }
        return new Gaussian(mean, cov);
    }

    public static double between(float[][] a, float[][] b) {
        return between(fit(a), fit(b));
    }

    public static double between(Gaussian a, Gaussian b) {
        int d = a.dim();
        if (b.dim() != d) {
            throw new IllegalArgumentException("feature dims differ: " + d + " and " + b.dim());
        }
        double meanTerm = 0;
        double traces = 0;
        for (int i = 0; i < d; i++) {
            double diff = a.mean()[i] - b.mean()[i];
            meanTerm += diff * diff;
            traces += a.covariance()[i][i] + b.covariance()[i][i];
        }
        double[][] rootA = SymmetricEigen.sqrtPsd(a.covariance());
        double[][] m = multiply(multiply(rootA, b.covariance()), rootA);
        symmetrize(m);
        double traceRoot = 0;
        for (double lambda : SymmetricEigen.of(m).values()) {
            traceRoot += Math.sqrt(Math.max(lambda, 0));
        }
        return meanTerm + traces - 2 * traceRoot;
    }

    static double[][] multiply(double[][] x, double[][] y) {
        int n = x.length;
        int k = y.length;
        int m = y[0].length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < k; p++) {
                double xip = x[i][p];
                if (xip == 0) {
                    continue;
                }
                double[] yp = y[p];
                double[] oi = out[i];
                for (int j = 0; j < m; j++) {
                    oi[j] += xip * yp[j];
                }
            }
        }
        return out;
    }

    private static void symmetrize(double[][] m) {
        for (int i = 0; i < m.length; i++) {
            for (int j = i + 1; j < m.length; j++) {
                double avg = (m[i][j] + m[j][i]) / 2;
                m[i][j] = avg;
                m[j][i] = avg;
            }
        }
    }
}
