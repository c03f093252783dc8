package dev.mdx.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.GroupNorm;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.nn.Probe;
import dev.mdx.nn.TimestepEmbedding;
import dev.mdx.nn.Timesteps;
import dev.mdx.tensor.Ops;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * diffusers' {@code UNet2DConditionModel} (SD 1.x/2.x) with the MobileDiffusion options of {@link UNetConfig}.
 * Parameter keys are the diffusers state-dict keys. One call computes one denoiser evaluation; every intermediate
 * lands in the manager of {@code sample}.
 */
public final class UNet2DConditionModel extends Module {
    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "diffusion_pytorch_model.safetensors";

    private final UNetConfig config;
    private final Timesteps timeProj;
    private final TimestepEmbedding timeEmbedding;
    private final Conv2d convIn;
    private final ModuleList<DownBlock> downBlocks;
    private final MidBlock midBlock;
    private final ModuleList<UpBlock> upBlocks;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    private UNet2DConditionModel(UNetConfig c) {
        this.config = c;
        List<Integer> channels = c.blockOutChannels();
        int first = channels.get(0);
        this.timeProj = new Timesteps(first, c.flipSinToCos(), c.freqShift());
        this.timeEmbedding = child("time_embedding", new TimestepEmbedding(first, c.timeEmbedDim(),
                c.hasTimeCondProj() ? c.timeCondProjDim() : 0));
        this.convIn = child("conv_in", new Conv2d(c.inChannels(), first, c.convInKernel(), 1, c.convInKernel() / 2));
        this.downBlocks = child("down_blocks", new ModuleList<>());
        int in = first;
        for (int i = 0; i < c.levels(); i++) {
            downBlocks.add(new DownBlock(c, i, in));
            in = channels.get(i);
        }
        this.midBlock = child("mid_block", new MidBlock(c));
        this.upBlocks = child("up_blocks", new ModuleList<>());
        int prev = channels.get(c.levels() - 1);
        for (int j = 0; j < c.levels(); j++) {
            upBlocks.add(new UpBlock(c, j, prev));
            prev = channels.get(c.levelOfUpBlock(j));
        }
        this.convNormOut = child("conv_norm_out", new GroupNorm(c.normNumGroups(), first, (float) c.normEps()));
        this.convOut = child("conv_out", new Conv2d(first, c.outChannels(), c.convOutKernel(), 1, c.convOutKernel() / 2));
    }

    /** Builds the module tree of {@code config}; parameters are unset until loaded or initialised. */
    public static UNet2DConditionModel fromConfig(UNetConfig config) {
        return new UNet2DConditionModel(config);
    }

    /**
     * Loads a diffusers {@code unet/} folder ({@value #CONFIG_FILE} + {@value #WEIGHTS_FILE}) strictly, with the
     * weights in {@code manager} as float32.
     */
    public static UNet2DConditionModel load(Path dir, NDManager manager) {
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            throw new ModelFormatException(weights + ": file not found");
        }
        UNet2DConditionModel model = fromConfig(UNetConfig.read(dir.resolve(CONFIG_FILE)));
        StateDicts.load(model, weights, manager);
        return model;
    }

    public UNetConfig config() {
        return config;
    }

    /**
     * One evaluation of a UNet without {@code time_cond_proj_dim}.
     *
     * @param sample (B, in_channels, H, W)
     * @param timesteps (B,) or a single value for the whole batch; fractional values are allowed
     * @param encoderHiddenStates (B, N, cross_attention_dim)
     * @return (B, out_channels, H, W)
     */
    public NDArray forward(NDArray sample, NDArray timesteps, NDArray encoderHiddenStates) {
        return forward(sample, timesteps, encoderHiddenStates, null, Probe.off());
    }

    /**
     * As {@link #forward(NDArray, NDArray, NDArray)}, with diffusers' {@code timestep_cond}.
     *
     * @param timestepCond (B, time_cond_proj_dim) or (1, time_cond_proj_dim) for the whole batch (LCM's guidance
     *     embedding); required when the config has {@code time_cond_proj_dim}, must be null otherwise
     */
    public NDArray forward(NDArray sample, NDArray timesteps, NDArray encoderHiddenStates, NDArray timestepCond) {
        return forward(sample, timesteps, encoderHiddenStates, timestepCond, Probe.off());
    }

    /**
     * As {@link #forward(NDArray, NDArray, NDArray)}, also putting named intermediate outputs into {@code debug}
     * (keys as diffusers module paths: "time_proj", "time_embedding", "conv_in", "down_blocks.0",
     * "down_blocks.0.resnets.1", "mid_block", "up_blocks.1.attentions.0", "conv_norm_out", "conv_out", ...).
     * The arrays belong to the manager of {@code sample}. A null map records nothing.
     */
    public NDArray forward(NDArray sample, NDArray timesteps, NDArray encoderHiddenStates,
            Map<String, NDArray> debug) {
        return forward(sample, timesteps, encoderHiddenStates, null, Probe.into(debug));
    }

    public NDArray forward(NDArray sample, NDArray timesteps, NDArray encoderHiddenStates, Probe probe) {
        return forward(sample, timesteps, encoderHiddenStates, null, probe);
    }

    public NDArray forward(NDArray sample, NDArray timesteps, NDArray encoderHiddenStates, NDArray timestepCond,
            Probe probe) {
        return forward(sample, timesteps, encoderHiddenStates, timestepCond, null, probe);
    }

    /**
     * As {@link #forward(NDArray, NDArray, NDArray, NDArray)} with a control adapter's features added to the down
     * blocks (and optionally the mid block); null adds nothing.
     */
    public NDArray forward(NDArray sample, NDArray timesteps, NDArray encoderHiddenStates, NDArray timestepCond,
            ControlResiduals control, Probe probe) {
        Encoded e = encode(sample, timesteps, encoderHiddenStates, timestepCond, control, probe);
        NDArray h = e.features();
        for (int j = 0; j < upBlocks.size(); j++) {
            Probe p = probe.child("up_blocks", j);
            h = probe.record("up_blocks." + j, upBlocks.get(j).forward(h, e.tembAct(), e.context(), e.skips(), p));
        }
        h = Ops.silu(probe.record("conv_norm_out", convNormOut.forward(h)));
        return probe.record("conv_out", convOut.forward(h));
    }

    /**
     * The encoder half of {@link #forward}: time embedding, conv_in, down blocks and mid block. Returns the mid
     * block's output (B, C_last, H / 2^(levels-1), W / 2^(levels-1)); only {@code time_embedding}, {@code conv_in},
     * {@code down_blocks} and {@code mid_block} weights are read (a UFOGen discriminator is built on this).
     */
    public NDArray encode(NDArray sample, NDArray timesteps, NDArray encoderHiddenStates) {
        return encode(sample, timesteps, encoderHiddenStates, null);
    }

    /** As {@link #encode(NDArray, NDArray, NDArray)} with {@code timestepCond} as in {@link #forward}. */
    public NDArray encode(NDArray sample, NDArray timesteps, NDArray encoderHiddenStates, NDArray timestepCond) {
        return encode(sample, timesteps, encoderHiddenStates, timestepCond, null, Probe.off()).features();
    }

    /** The encoder's output and what the decoder needs besides it. */
    private record Encoded(NDArray features, NDArray tembAct, NDArray context, List<NDArray> skips) {}

    private Encoded encode(NDArray sample, NDArray timesteps, NDArray encoderHiddenStates, NDArray timestepCond,
            ControlResiduals control, Probe probe) {
        requireFits(control);
        Shape shape = sample.getShape();
        if (shape.dimension() != 4 || shape.get(1) != config.inChannels()) {
            throw new IllegalArgumentException("sample must be (B, " + config.inChannels() + ", H, W), got " + shape);
        }
        long batch = shape.get(0);
        // Timesteps and context usually outlive one call (a sampling loop reuses them); views of them in the
        // sample's manager make every derived array (e.g. cross-attention keys and values) land in this call's scope.
        NDArray context = Ops.weightView(encoderHiddenStates, sample, encoderHiddenStates.getShape().getShape());
        NDArray t = broadcastTimesteps(Ops.weightView(timesteps, sample, timesteps.getShape().getShape()), batch);
        NDArray tProj = probe.record("time_proj", timeProj.forward(t, sample.getDataType()));
        NDArray cond = condition(timestepCond, sample, batch);
        NDArray temb = probe.record("time_embedding", timeEmbedding.forward(tProj, cond));
        // every resnet applies SiLU to the same embedding, so do it once
        NDArray tembAct = Ops.silu(temb);

        NDArray x = config.centerInputSample() ? Ops.mulScalar(sample, 2).sub(1f) : sample;
        NDArray h = probe.record("conv_in", convIn.forward(x));
        List<NDArray> skips = new ArrayList<>();
        skips.add(h);
        for (int i = 0; i < downBlocks.size(); i++) {
            Probe p = probe.child("down_blocks", i);
            NDArray residual = control == null ? null : control.down().get(i);
            h = probe.record("down_blocks." + i, downBlocks.get(i).forward(h, tembAct, context, skips, residual, p));
        }
        h = probe.record("mid_block", midBlock.forward(h, tembAct, context, probe.child("mid_block")));
        if (control != null && control.mid() != null) {
            h = h.add(control.mid());
        }
        return new Encoded(h, tembAct, context, skips);
    }

    private void requireFits(ControlResiduals control) {
        if (control != null && control.down().size() != downBlocks.size()) {
            throw new IllegalArgumentException("control residuals: need one per down block (" + downBlocks.size()
                    + "), got " + control.down().size());
        }
    }

    /**
     * (B, D) or (1, D) -> (B, D) in the sample's type, as a view in the sample's manager (like the context, the
     * condition usually outlives one call); null stays null. A condition must be given exactly when the config has
     * {@code time_cond_proj_dim}.
     */
    private NDArray condition(NDArray timestepCond, NDArray sample, long batch) {
        if (!config.hasTimeCondProj()) {
            if (timestepCond != null) {
                throw new IllegalArgumentException("this UNet has no time_cond_proj_dim, so it takes no timestep"
                        + " condition (guidance embedding)");
            }
            return null;
        }
        int dim = config.timeCondProjDim();
        if (timestepCond == null) {
            throw new IllegalArgumentException("this UNet has time_cond_proj_dim " + dim + ": it needs a timestep"
                    + " condition of shape (B, " + dim + "), the guidance embedding");
        }
        Shape s = timestepCond.getShape();
        if (s.dimension() != 2 || s.get(1) != dim || (s.get(0) != batch && s.get(0) != 1)) {
            throw new IllegalArgumentException("the timestep condition must be (" + batch + ", " + dim + ") or (1, "
                    + dim + ") (time_cond_proj_dim " + dim + "), got " + s);
        }
        NDArray view = Ops.weightView(timestepCond, sample, s.getShape()).toType(sample.getDataType(), false);
        return s.get(0) == batch ? view : view.broadcast(new Shape(batch, dim));
    }

    /** (), (1) or (B,) -> (B,). */
    private static NDArray broadcastTimesteps(NDArray timesteps, long batch) {
        Shape s = timesteps.getShape();
        if (s.dimension() == 1 && s.get(0) == batch) {
            return timesteps;
        }
        if (s.size() == 1) {
            return timesteps.reshape(1).broadcast(new Shape(batch));
        }
        throw new IllegalArgumentException("timesteps must be a scalar or have shape (" + batch + "), got " + s);
    }
}
