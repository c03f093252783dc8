package dev.mdx.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.tensor.Ops;
import dev.mdx.testing.Golden;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Latents whose size is not a multiple of 2^downsamplers: upsampling resizes to the skip connection's size. */
class OddSizeTest {
    @Test
    void nearestResizeMatchesTorchIndexRule() {
        try (NDManager m = NDManager.newBaseManager()) {
            int h = 4;
            int w = 5;
            int oh = 7;
            int ow = 9;
            float[] data = new float[2 * h * w];
            for (int i = 0; i < data.length; i++) {
                data[i] = i * 0.37f - 3;
            }
            NDArray x = m.create(data, new Shape(1, 2, h, w));
            float[] expected = new float[2 * oh * ow];
            for (int c = 0; c < 2; c++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        // torch 'nearest': src = floor(dst * (in / out))
                        int si = Math.min((int) Math.floor(i * ((float) h / oh)), h - 1);
                        int sj = Math.min((int) Math.floor(j * ((float) w / ow)), w - 1);
                        expected[(c * oh + i) * ow + j] = data[(c * h + si) * w + sj];
                    }
                }
            }
            Golden.assertClose(m.create(expected, new Shape(1, 2, oh, ow)), Ops.upsampleNearest(x, oh, ow), 0,
                    "nearest resize 4x5 -> 7x9");
        }
    }

    @Test
    void goldenUnetRunsOnOddSizedLatents() {
        Path dir = Golden.componentDirs("UNet2DConditionModel").get(0);
        try (NDManager weights = NDManager.newBaseManager(); NDManager scope = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.load(dir, weights);
            UNetConfig c = unet.config();
            NDArray sample = scope.randomNormal(new Shape(1, c.inChannels(), 7, 9));
            NDArray context = scope.randomNormal(new Shape(1, 77, c.crossAttentionDim().get(0)));
            NDArray out = unet.forward(sample, scope.create(500f), context);
            assertEquals(new Shape(1, c.outChannels(), 7, 9), out.getShape());
        }
    }
}
