package dev.mdx.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.testing.Golden;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A forward pass creates arrays only in the manager of its sample: the weights' manager and a long-lived manager
 * holding the context and timesteps (as in a sampling loop) keep their array counts across calls.
 */
class UNetMemoryScopeTest {
    @Test
    void intermediatesLandInTheSampleScope() {
        Path dir = Golden.componentDirs("UNet2DConditionModel").get(0);
        try (NDManager weights = NDManager.newBaseManager(); NDManager session = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.load(dir, weights);
            UNetConfig c = unet.config();
            NDArray context = session.randomNormal(new Shape(2, 77, c.crossAttentionDim().get(0)));
            NDArray timesteps = session.create(new float[] {999f, 1.5f});
            int weightArrays = weights.getManagedArrays().size();
            int sessionArrays = session.getManagedArrays().size();
            for (int step = 0; step < 3; step++) {
                try (NDManager scope = session.newSubManager()) {
                    NDArray sample = scope.randomNormal(new Shape(2, c.inChannels(), 8, 8));
                    Map<String, NDArray> debug = new HashMap<>();
                    unet.forward(sample, timesteps, context, debug);
                    unet.forward(sample, scope.create(500f), context);
                }
                assertEquals(weightArrays, weights.getManagedArrays().size(), "arrays left in the weights' manager");
                assertEquals(sessionArrays, session.getManagedArrays().size(), "arrays left in the session manager");
            }
        }
    }
}
