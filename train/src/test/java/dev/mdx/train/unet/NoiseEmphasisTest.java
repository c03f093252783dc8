package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.train.Rng;
import org.junit.jupiter.api.Test;

/** The LoRA stage's high-noise emphasis: where timesteps are drawn and how examples are weighted. */
class NoiseEmphasisTest {
    @Test
    void withoutEmphasisTheDrawsAreThePlainUniformOnes() {
        Rng a = new Rng(3);
        Rng b = new Rng(3);
        for (int i = 0; i < 1000; i++) {
            assertEquals(5 + a.nextInt(995), NoiseEmphasis.NONE.draw(b, 5, 1000));
        }
    }

    @Test
    void theHighShareLandsInTheHighRange() {
        NoiseEmphasis all = new NoiseEmphasis(1, 800, 1);
        NoiseEmphasis half = new NoiseEmphasis(0.5, 800, 1);
        Rng rng = new Rng(1);
        int high = 0;
        int n = 20000;
        for (int i = 0; i < n; i++) {
            int t = all.draw(rng, 0, 1000);
            assertTrue(t >= 800 && t < 1000, "t = " + t);
            high += half.draw(rng, 0, 1000) >= 800 ? 1 : 0;
        }
        // half from [800, 1000) plus a fifth of the uniform half: 0.6
        assertEquals(0.6, high / (double) n, 0.02);
    }

    @Test
    void theWeightIsTheX0FactorClampedToOneAndTheCap() {
        NoiseSchedule s = NoiseSchedule.of(ScheduleConfig.defaults());
        NoiseEmphasis e = new NoiseEmphasis(0, 0, 10);
        assertEquals(1f, e.weight(s, 0), "low noise: weight 1");
        assertEquals(10f, e.weight(s, 999), "t = 999: (1 - a) / a is about 200, capped");
        int mid = 0;
        while ((1 - s.alphaCumprod(mid)) / s.alphaCumprod(mid) < 3) {
            mid++;
        }
        double a = s.alphaCumprod(mid);
        double factor = (1 - a) / a;
        assertTrue(factor > 1 && factor < 10, "t = " + mid + " is between the clamps: " + factor);
        assertEquals((float) factor, e.weight(s, mid), 1e-6);
        assertEquals(1f, NoiseEmphasis.NONE.weight(s, 999));
        assertThrows(IllegalArgumentException.class, () -> new NoiseEmphasis(1.5, 800, 1));
        assertThrows(IllegalArgumentException.class, () -> new NoiseEmphasis(0.5, 800, 0.5));
    }
}
