package dev.mdx.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.nn.Probe;
import dev.mdx.tensor.FlopCounter;
import dev.mdx.testing.Golden;
import dev.mdx.unet.ControlResiduals;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The adapter against the tiny golden UNet: zero start, shapes, its hook's effect, FLOPs and clear mismatches. */
class ControlAdapterTest {
    private static final int FACTOR = 4;

    private record Inputs(UNet2DConditionModel unet, NDArray sample, NDArray t, NDArray context) {}

    private static Inputs load(NDManager m) {
        Path dir = Golden.componentDirs("UNet2DConditionModel").get(0);
        try (SafeTensorsFile io = SafeTensorsFile.open(dir.resolve("io.safetensors"))) {
            return new Inputs(UNet2DConditionModel.load(dir, m), io.load("sample", m), io.load("timestep", m),
                    io.load("encoder_hidden_states", m));
        }
    }

    private static NDArray condition(NDManager m, Inputs in) {
        Shape s = in.sample().getShape();
        return m.randomUniform(0f, 1f, new Shape(s.get(0), 1, s.get(2) * FACTOR, s.get(3) * FACTOR));
    }

    @Test
    void aZeroInitialisedAdapterLeavesTheUNetOutputBitIdentical() {
        try (NDManager m = NDManager.newBaseManager()) {
            Inputs in = load(m);
            ControlAdapter adapter = new ControlAdapter(AdapterConfig.forUnet(in.unet().config(), FACTOR,
                    ConditionType.CANNY));
            adapter.initialize(m, 1);
            NDArray plain = in.unet().forward(in.sample(), in.t(), in.context());
            ControlResiduals r = adapter.forward(condition(m, in)).scaled(2.0);
            NDArray controlled = in.unet().forward(in.sample(), in.t(), in.context(), null, r, Probe.off());
            assertArrayEquals(plain.toFloatArray(), controlled.toFloatArray(), 0f);
        }
    }

    @Test
    void residualsHaveEachDownBlocksWidthAndResolutionAndChangeTheOutput() {
        try (NDManager m = NDManager.newBaseManager()) {
            Inputs in = load(m);
            UNetConfig c = in.unet().config();
            ControlAdapter adapter = new ControlAdapter(AdapterConfig.forUnet(c, FACTOR, ConditionType.MASK));
            adapter.initialize(m, 1);
            // non-zero output convolutions: a trained adapter
            adapter.namedParameters().forEach((k, p) -> {
                if (k.contains(".out.")) {
                    p.set(m.randomNormal(0f, 0.1f, p.shape(), ai.djl.ndarray.types.DataType.FLOAT32));
                }
            });
            Shape s = in.sample().getShape();
            ControlResiduals r = adapter.forward(condition(m, in));
            assertEquals(c.levels(), r.down().size());
            long h = s.get(2);
            for (int i = 0; i < c.levels(); i++) {
                assertEquals(new Shape(s.get(0), c.blockOutChannels().get(i), h, h), r.down().get(i).getShape(),
                        "level " + i);
                h = (h + 1) / 2;
            }
            NDArray plain = in.unet().forward(in.sample(), in.t(), in.context());
            NDArray controlled = in.unet().forward(in.sample(), in.t(), in.context(), null, r, Probe.off());
            assertTrue(plain.sub(controlled).abs().max().getFloat() > 1e-4f);
            // scale 0 is the plain UNet again
            NDArray off = in.unet().forward(in.sample(), in.t(), in.context(), null, r.scaled(0), Probe.off());
            assertArrayEquals(plain.toFloatArray(), off.toFloatArray(), 0f);
        }
    }

    @Test
    void analyticFlopsMatchTheCountedForwardPass() {
        try (NDManager m = NDManager.newBaseManager()) {
            Inputs in = load(m);
            for (boolean mid : new boolean[] {false, true}) {
                AdapterConfig d = AdapterConfig.forUnet(in.unet().config(), FACTOR, ConditionType.CANNY);
                ControlAdapter adapter = new ControlAdapter(new AdapterConfig(d.condition(), 1, FACTOR, d.channels(),
                        d.resBlocks(), d.unetChannels(), mid));
                adapter.initialize(m, 1);
                NDArray cond = m.zeros(new Shape(1, 1, 40, 24));
                long counted;
                try (FlopCounter f = FlopCounter.start()) {
                    adapter.forward(cond);
                    counted = f.flops();
                }
                assertEquals(counted, adapter.flops(40, 24), "mid " + mid);
            }
        }
    }

    @Test
    void mismatchedInputsAndUNetsFailWithOneClearMessage() {
        try (NDManager m = NDManager.newBaseManager()) {
            Inputs in = load(m);
            UNetConfig c = in.unet().config();
            ControlAdapter adapter = new ControlAdapter(AdapterConfig.forUnet(c, FACTOR, ConditionType.CANNY));
            adapter.initialize(m, 1);
            AdapterMismatchException channels = assertThrows(AdapterMismatchException.class,
                    () -> adapter.forward(m.zeros(new Shape(1, 3, 32, 32))));
            assertTrue(channels.getMessage().contains("(B, 1, H, W)"), channels.getMessage());
            AdapterMismatchException size = assertThrows(AdapterMismatchException.class,
                    () -> adapter.forward(m.zeros(new Shape(1, 1, 30, 32))));
            assertTrue(size.getMessage().contains("multiple of 4"), size.getMessage());
            AdapterConfig other = new AdapterConfig(ConditionType.CANNY, 1, FACTOR, List.of(8, 8), 1, List.of(64, 96),
                    false);
            AdapterMismatchException unet = assertThrows(AdapterMismatchException.class,
                    () -> other.requireFits(c, FACTOR, "the adapter x.safetensors"));
            assertTrue(unet.getMessage().contains("trained for a UNet with block_out_channels [64, 96]"),
                    unet.getMessage());
            AdapterMismatchException vae = assertThrows(AdapterMismatchException.class,
                    () -> adapter.config().requireFits(c, 8, "the adapter"));
            assertTrue(vae.getMessage().contains("VAE scales by 8"), vae.getMessage());
            adapter.config().requireFits(c, FACTOR, "the adapter");
        }
    }

    @Test
    void configRoundTripsThroughJson() {
        AdapterConfig c = new AdapterConfig(ConditionType.MASK, 1, 8, List.of(16, 32), 3, List.of(32, 64), true);
        assertEquals(c, AdapterConfig.parse("test", c.toJson()));
        assertFalse(c.toJson().isEmpty());
    }
}
