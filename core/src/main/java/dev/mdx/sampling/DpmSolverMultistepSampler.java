package dev.mdx.sampling;

import static dev.mdx.sampling.Scalars.exp;
import static dev.mdx.sampling.Scalars.log;
import static dev.mdx.sampling.Scalars.sqrt;

import ai.djl.ndarray.NDArray;
import dev.mdx.schedule.Parameterization;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.schedule.Sigmas;
import dev.mdx.schedule.TimestepGrid;
import dev.mdx.schedule.TimestepSpacing;

/**
 * DPM-Solver++(2M) (Lu et al. 2022, arXiv 2211.01095, Algorithm 2) as diffusers' DPMSolverMultistepScheduler with
 * algorithm_type dpmsolver++: a data-prediction multistep solver in lambda = log(alpha / sigma). The previous step's
 * x0 lives in the caller's {@link SamplerState}.
 *
 * <p>Edge cases kept from diffusers 0.25: the sigma grid ends at the smallest training sigma (not 0); with Karras
 * sigmas it repeats the last sigma, so the last step has h = 0 and returns its input (r0 = h0 / 0 = inf makes the
 * second-order term 0 under IEEE arithmetic); fewer than 15 steps use first order on the last step.
 */
public final class DpmSolverMultistepSampler extends AbstractSampler {
    /** Below this many steps, lower_order_final makes the last step first order. */
    private static final int LOWER_ORDER_FINAL_BELOW = 15;

    public DpmSolverMultistepSampler(ScheduleConfig config, SamplerOptions options) {
        super(config, options);
    }

    @Override
    public SamplerKind kind() {
        return SamplerKind.DPMPP_2M;
    }

    @Override
    public SamplingPlan plan(int steps) {
        int numTrain = schedule.numTrainTimesteps();
        int[] timesteps = TimestepGrid.dpmSolver(config.spacingOr(TimestepSpacing.LINSPACE), steps,
                lastTimestep(), numTrain, config.stepsOffset());
        int n = timesteps.length;
        float[] table = schedule.sigmas();
        float[] sigmas = new float[n + 1];
        if (config.useKarrasSigmas()) {
            double[] karras = Sigmas.karras(table[0], table[numTrain - 1], n);
            for (int i = 0; i < n; i++) {
                sigmas[i] = (float) karras[i];
                timesteps[i] = (int) Math.rint(schedule.sigmaToTimestep(karras[i]));
            }
            sigmas[n] = options.finalSigmas() == FinalSigmas.ZERO ? 0f : sigmas[n - 1];
        } else {
            for (int i = 0; i < n; i++) {
                sigmas[i] = table[timesteps[i]];
            }
            sigmas[n] = options.finalSigmas() == FinalSigmas.ZERO ? 0f : table[0];
        }
        return new SamplingPlan(this, toFloats(timesteps), sigmas, 1f, ones(n));
    }

    /** N minus the timesteps whose lambda lies below lambda_min_clipped (searchsorted over ascending lambdas). */
    private int lastTimestep() {
        int numTrain = schedule.numTrainTimesteps();
        int clipped = 0;
        for (int t = numTrain - 1; t >= 0; t--) {
            float a = schedule.alphaCumprod(t);
            float lambda = log(Parameterization.alpha(a)) - log(Parameterization.sigma(a));
            if (lambda < options.lambdaMinClipped()) {
                clipped++;
            } else {
                break;
            }
        }
        return numTrain - clipped;
    }

    @Override
    protected StepResult compute(SamplingPlan plan, int index, NDArray modelOutput, NDArray sample, Draw noise,
            SamplerState state) {
        int n = plan.size();
        Point s0 = new Point(plan.sigma(index));
        Point t = new Point(plan.sigma(index + 1));

        NDArray x0 = switch (config.predictionType()) {
            case EPSILON -> Parameterization.x0FromEpsilon(sample, modelOutput, s0.alpha, s0.sigma);
            case V_PREDICTION -> Parameterization.x0FromV(sample, modelOutput, s0.alpha, s0.sigma);
            case SAMPLE -> modelOutput.duplicate();
        };
        boolean lastIsFirstOrder = index == n - 1 && (options.eulerAtFinal()
                || (options.lowerOrderFinal() && n < LOWER_ORDER_FINAL_BELOW)
                || options.finalSigmas() == FinalSigmas.ZERO);
        NDArray previous = state.previousDenoised();
        boolean firstOrder = options.solverOrder() == 1 || previous == null || lastIsFirstOrder;

        float h = t.lambda - s0.lambda;
        float expm1 = exp(-h) - 1f;
        NDArray prev = sample.mul(t.sigma / s0.sigma).sub(x0.mul(t.alpha * expm1));
        if (!firstOrder) {
            Point s1 = new Point(plan.sigma(index - 1));
            float r0 = (s0.lambda - s1.lambda) / h;
            NDArray d1 = x0.sub(previous).mul(1f / r0);
            prev = switch (options.solverType()) {
                case MIDPOINT -> prev.sub(d1.mul(0.5f * (t.alpha * expm1)));
                case HEUN -> prev.add(d1.mul(t.alpha * (expm1 / h + 1f)));
            };
        }
        state.rememberDenoised(x0);
        return new StepResult(prev, x0);
    }

    /** alpha_t x0 + sigma_t noise at the step's sigma, as DPMSolverMultistepScheduler.add_noise. */
    @Override
    public NDArray addNoise(SamplingPlan plan, int index, NDArray x0, NDArray noise) {
        Point p = new Point(plan.sigma(index));
        return x0.mul(p.alpha).add(noise.mul(p.sigma));
    }

    /** alpha_t = 1 / sqrt(sigma^2 + 1), sigma_t = sigma alpha_t and lambda_t = log alpha_t - log sigma_t, float32. */
    private static final class Point {
        final float alpha;
        final float sigma;
        final float lambda;

        Point(float veSigma) {
            alpha = 1f / sqrt(veSigma * veSigma + 1f);
            sigma = veSigma * alpha;
            lambda = log(alpha) - log(sigma);
        }
    }
}
