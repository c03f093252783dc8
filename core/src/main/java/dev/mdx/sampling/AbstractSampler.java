package dev.mdx.sampling;

import static dev.mdx.sampling.Scalars.sqrt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.TimestepGrid;
import dev.mdx.schedule.TimestepSpacing;
import dev.mdx.schedule.Parameterization;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.tensor.NoiseSource;
import java.util.Arrays;
import java.util.Objects;

/** Validation, memory scoping and the shared schedule arithmetic of the samplers. */
abstract class AbstractSampler implements Sampler {
    protected final ScheduleConfig config;
    protected final SamplerOptions options;
    protected final NoiseSchedule schedule;

    AbstractSampler(ScheduleConfig config, SamplerOptions options) {
        this.config = Objects.requireNonNull(config, "config");
        this.options = Objects.requireNonNull(options, "options");
        this.schedule = NoiseSchedule.of(config);
    }

    @Override
    public NoiseSchedule schedule() {
        return schedule;
    }

    @Override
    public final StepResult step(SamplingPlan plan, int index, NDArray modelOutput, NDArray sample,
            NoiseSource noise, SamplerState state) {
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(modelOutput, "modelOutput");
        Objects.requireNonNull(sample, "sample");
        Objects.requireNonNull(state, "state");
        if (!plan.isFrom(this)) {
            throw new IllegalArgumentException("the plan was made by another sampler instance");
        }
        Objects.checkIndex(index, plan.size());
        if (sample.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("sample must be float32, got " + sample.getDataType());
        }
        if (!modelOutput.getShape().equals(sample.getShape())) {
            throw new IllegalArgumentException("model output shape " + modelOutput.getShape()
                    + " differs from sample shape " + sample.getShape());
        }
        state.begin(plan, index);
        try (StepScope scope = new StepScope(sample, modelOutput)) {
            NDArray output = modelOutput.getDataType() == DataType.FLOAT32
                    ? modelOutput : modelOutput.toType(DataType.FLOAT32, false);
            StepResult r = compute(plan, index, output, sample, new Draw(noise, scope, sample), state);
            StepResult kept = new StepResult(scope.keep(r.prevSample()), scope.keep(r.denoised()));
            state.finish(index);
            return kept;
        }
    }

    /**
     * One step inside a scope: every array created from the inputs is freed after the step except the two returned,
     * which must be distinct new arrays.
     */
    protected abstract StepResult compute(SamplingPlan plan, int index, NDArray modelOutput, NDArray sample,
            Draw noise, SamplerState state);

    /** Discrete-timestep samplers: sqrt(a_t) x0 + sqrt(1 - a_t) noise, as DDPMScheduler.add_noise. */
    @Override
    public NDArray addNoise(SamplingPlan plan, int index, NDArray x0, NDArray noise) {
        float a = schedule.alphaCumprod(plan.discreteTimestep(index));
        return x0.mul(sqrt(a)).add(noise.mul(sqrt(1f - a)));
    }

    /** x0 from the model output for a sample with alpha = sqrt(a), sigma = sqrt(1 - a), clipped if configured. */
    protected NDArray predictX0(NDArray modelOutput, NDArray sample, float alphaCumprod, boolean clipByDefault) {
        NDArray x0 = Parameterization.toX0(config.predictionType(), modelOutput, sample,
                Parameterization.alpha(alphaCumprod), Parameterization.sigma(alphaCumprod));
        return clip(x0, clipByDefault);
    }

    protected NDArray clip(NDArray x0, boolean clipByDefault) {
        if (!config.clipSample().orElse(clipByDefault)) {
            return x0;
        }
        float range = (float) config.clipSampleRange();
        return x0.clip(-range, range);
    }

    /** a_{t'} for a previous timestep, or the value used past the start of the chain. */
    protected float alphaCumprodOrFinal(int t, boolean setAlphaToOneByDefault) {
        if (t >= 0) {
            return schedule.alphaCumprod(t);
        }
        return config.setAlphaToOne().orElse(setAlphaToOneByDefault) ? 1f : schedule.alphaCumprod(0);
    }

    /** A plan on diffusers' discrete timestep grid (leading spacing unless the config says otherwise), no sigmas. */
    protected SamplingPlan discretePlan(int steps) {
        int[] t = TimestepGrid.discrete(config.spacingOr(TimestepSpacing.LEADING), steps,
                schedule.numTrainTimesteps(), config.stepsOffset());
        return new SamplingPlan(this, toFloats(t), null, 1f, ones(t.length));
    }

    protected static float[] toFloats(int[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    protected static float[] ones(int n) {
        float[] out = new float[n];
        Arrays.fill(out, 1f);
        return out;
    }

    /** Draws step noise of the sample's shape into the step scope; fails clearly when the run has no source. */
    protected final class Draw {
        private final NoiseSource source;
        private final StepScope scope;
        private final NDArray sample;

        Draw(NoiseSource source, StepScope scope, NDArray sample) {
            this.source = source;
            this.scope = scope;
            this.sample = sample;
        }

        NDArray next() {
            if (source == null) {
                throw new IllegalArgumentException(kind() + " needs a NoiseSource for this step");
            }
            NDArray z = source.gaussian(scope.manager(), sample.getShape());
            if (z.getManager() != scope.manager()) {
                z.attach(scope.manager());
            }
            return z;
        }
    }
}
