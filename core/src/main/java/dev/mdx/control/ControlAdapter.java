package dev.mdx.control;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.tensor.Ops;
import dev.mdx.unet.ControlResiduals;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A T2I-Adapter-style control encoder (Mou et al. 2023; MobileDiffusion's "lightweight controllable adapter"): the
 * condition map is pixel-unshuffled to the latent grid, then per UNet level a stride-2 convolution (after level 0),
 * residual blocks, and a zero-initialised 1x1 convolution to that level's UNet width give the features added to the
 * down block (see {@link ControlResiduals}). It reads only the map, not the noisy latents or the timestep, so it
 * runs once per image, not once per step.
 */
public final class ControlAdapter extends Module {
    private final AdapterConfig config;
    private final Conv2d convIn;
    private final ModuleList<Level> body;
    private final Conv2d midOut;

    /** One UNet level of the adapter: keys {@code down}, {@code resnets.J.conv1/conv2}, {@code out}. */
    static final class Level extends Module {
        final Conv2d down;
        final ModuleList<ResBlock> resnets;
        final Conv2d out;

        Level(int in, int width, int unetWidth, int blocks, boolean first) {
            this.down = first ? null : child("down", new Conv2d(in, width, 3, 2, 1));
            this.resnets = child("resnets", new ModuleList<>());
            for (int j = 0; j < blocks; j++) {
                resnets.add(new ResBlock(width));
            }
            this.out = child("out", new Conv2d(width, unetWidth, 1, 1, 0));
        }

        NDArray features(NDArray x) {
            NDArray h = down == null ? x : down.forward(x);
            for (int j = 0; j < resnets.size(); j++) {
                h = resnets.get(j).forward(h);
            }
            return h;
        }
    }

    /** x + conv2(relu(conv1(x))), 3x3 convolutions at one width. */
    static final class ResBlock extends Module {
        private final Conv2d conv1;
        private final Conv2d conv2;

        ResBlock(int width) {
            this.conv1 = child("conv1", new Conv2d(width, width, 3, 1, 1));
            this.conv2 = child("conv2", new Conv2d(width, width, 3, 1, 1));
        }

        NDArray forward(NDArray x) {
            return x.add(conv2.forward(Ops.relu(conv1.forward(x))));
        }
    }

    public ControlAdapter(AdapterConfig config) {
        this.config = config;
        int f = config.downscaleFactor();
        List<Integer> widths = config.channels();
        this.convIn = child("conv_in", new Conv2d(config.conditionChannels() * f * f, widths.get(0), 3, 1, 1));
        this.body = child("body", new ModuleList<>());
        for (int i = 0; i < widths.size(); i++) {
            body.add(new Level(i == 0 ? widths.get(0) : widths.get(i - 1), widths.get(i),
                    config.unetChannels().get(i), config.resBlocks(), i == 0));
        }
        int last = widths.size() - 1;
        this.midOut = config.midBlock()
                ? child("mid_out", new Conv2d(widths.get(last), config.unetChannels().get(last), 1, 1, 0)) : null;
    }

    public AdapterConfig config() {
        return config;
    }

    /** Random weights with every output convolution zero, so the new adapter leaves the UNet exactly as it was. */
    public void initialize(NDManager manager, long seed) {
        StateDicts.initRandom(this, manager, seed);
        namedParameters().forEach((key, p) -> {
            if (key.endsWith(".out.weight") || key.endsWith(".out.bias") || key.startsWith("mid_out.")) {
                p.set(manager.zeros(p.shape()));
            }
        });
    }

    /**
     * @param condition (B, condition_channels, H, W) in [0, 1], H and W multiples of the downscale factor
     * @return the UNet residuals: per level (B, unet_channels[i], H/f/2^i, W/f/2^i) (ceil), and the mid block's
     */
    public ControlResiduals forward(NDArray condition) {
        Shape s = condition.getShape();
        int f = config.downscaleFactor();
        if (s.dimension() != 4 || s.get(1) != config.conditionChannels()) {
            throw new AdapterMismatchException("the adapter reads (B, " + config.conditionChannels()
                    + ", H, W) condition maps, got " + s);
        }
        if (s.get(2) % f != 0 || s.get(3) % f != 0) {
            throw new AdapterMismatchException("the condition map is " + s.get(3) + "x" + s.get(2) + "; the adapter"
                    + " needs a multiple of " + f + " a side");
        }
        NDArray h = convIn.forward(Ops.pixelUnshuffle(condition, f));
        List<NDArray> down = new ArrayList<>();
        for (int i = 0; i < body.size(); i++) {
            h = body.get(i).features(h);
            down.add(body.get(i).out.forward(h));
        }
        return new ControlResiduals(down, midOut == null ? null : midOut.forward(h));
    }

    /** Multiply-adds times 2 of one forward pass on an H x W map, batch 1 (as {@link dev.mdx.tensor.FlopCounter}). */
    public long flops(int height, int width) {
        int f = config.downscaleFactor();
        long h = height / f;
        long w = width / f;
        List<Integer> widths = config.channels();
        long total = conv(config.conditionChannels() * f * f, widths.get(0), 3, h, w);
        for (int i = 0; i < widths.size(); i++) {
            if (i > 0) {
                h = (h + 1) / 2;
                w = (w + 1) / 2;
                total += conv(widths.get(i - 1), widths.get(i), 3, h, w);
            }
            total += 2L * config.resBlocks() * conv(widths.get(i), widths.get(i), 3, h, w);
            total += conv(widths.get(i), config.unetChannels().get(i), 1, h, w);
        }
        if (config.midBlock()) {
            total += conv(widths.get(widths.size() - 1), config.unetChannels().get(widths.size() - 1), 1, h, w);
        }
        return total;
    }

    private static long conv(long in, long out, int k, long h, long w) {
        return 2L * in * out * k * k * h * w;
    }

    /** The file's adapter with its weights in {@code manager} (float32); its config comes from the metadata. */
    public static ControlAdapter load(Path file, NDManager manager) {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException("adapter " + file + ": file not found");
        }
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            ControlAdapter adapter = new ControlAdapter(readConfig(file, st.metadata()));
            StateDicts.load(adapter, st, manager);
            return adapter;
        }
    }

    /** The config in a file's metadata. */
    public static AdapterConfig readConfig(Path file) {
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            return readConfig(file, st.metadata());
        }
    }

    private static AdapterConfig readConfig(Path file, Map<String, String> metadata) {
        String json = metadata.get(AdapterConfig.METADATA_KEY);
        if (json == null) {
            throw new ModelFormatException(file + " is not an mdx control adapter (no " + AdapterConfig.METADATA_KEY
                    + " in its metadata)");
        }
        return AdapterConfig.parse(file.toString(), json);
    }
}
