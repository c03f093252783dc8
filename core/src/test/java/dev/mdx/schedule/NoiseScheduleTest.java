package dev.mdx.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mdx.io.JsonConfig;
import dev.mdx.testing.Golden;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Betas, alphas_cumprod and timestep grids against diffusers (golden arrays, bit for bit) and closed forms. */
class NoiseScheduleTest {
    private static JsonNode golden() throws IOException {
        return new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .readTree(Golden.root().resolve("schedulers/schedulers_golden.json").toFile());
    }

    private static float[] floats(JsonNode n) {
        float[] out = new float[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.parseFloat(n.get(i).asText());
        }
        return out;
    }

    @Test
    void betasAndAlphasCumprodAreBitIdenticalToTorch() throws IOException {
        JsonNode g = golden();
        NoiseSchedule s = NoiseSchedule.of(ScheduleConfig.parse(new JsonConfig("base_config", g.get("base_config"))));
        float[] betas = s.betas();
        float[] alphas = s.alphasCumprod();
        int mismatches = 0;
        float[] expectedAlphas = floats(g.get("alphas_cumprod"));
        for (int i = 0; i < alphas.length; i++) {
            mismatches += alphas[i] == expectedAlphas[i] ? 0 : 1;
        }
        System.out.println("alphas_cumprod: " + mismatches + " of " + alphas.length + " differ from torch's");
        assertArrayEquals(floats(g.get("betas")), betas, "betas (exact)");
        assertArrayEquals(expectedAlphas, alphas, "alphas_cumprod (exact)");
    }

    @Test
    void linearScheduleMatchesClosedForm() {
        ScheduleConfig c = ScheduleConfig.defaults();
        float[] betas = NoiseSchedule.of(c).betas();
        for (int i = 0; i < betas.length; i++) {
            double expected = 0.0001 + i * (0.02 - 0.0001) / 999;
            assertEquals(expected, betas[i], 2 * Math.ulp((float) expected), "beta " + i);
        }
    }

    @Test
    void cosineScheduleMatchesGlide() {
        ScheduleConfig c = parse("{\"beta_schedule\": \"squaredcos_cap_v2\"}");
        NoiseSchedule s = NoiseSchedule.of(c);
        float[] alphas = s.alphasCumprod();
        for (int t = 0; t < 990; t += 37) {
            // a_t = f((t+1)/N) / f(0) with f(u) = cos((u + 0.008) / 1.008 * pi/2)^2 while no beta is capped
            double f0 = Math.pow(Math.cos(0.008 / 1.008 * Math.PI / 2), 2);
            double ft = Math.pow(Math.cos(((t + 1) / 1000.0 + 0.008) / 1.008 * Math.PI / 2), 2);
            assertEquals(ft / f0, alphas[t], 2e-6, "alphas_cumprod " + t);
        }
        assertEquals(0.999f, s.betas()[999], 0f, "last beta is capped");
    }

    @Test
    void zeroTerminalSnrRescale() {
        NoiseSchedule plain = NoiseSchedule.of(parse("{\"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085,"
                + " \"beta_end\": 0.012}"));
        NoiseSchedule zero = NoiseSchedule.of(parse("{\"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085,"
                + " \"beta_end\": 0.012, \"rescale_betas_zero_snr\": true}"));
        assertEquals(plain.alphaCumprod(0), zero.alphaCumprod(0), 1e-6, "first alphas_cumprod kept");
        assertEquals(0f, zero.alphaCumprod(999), 0f, "terminal SNR is zero");
        assertTrue(Float.isFinite(zero.sigma(999)), "sigma_T stays finite");
        for (int t = 1; t < 1000; t++) {
            assertTrue(zero.alphaCumprod(t) < zero.alphaCumprod(t - 1), "monotone at " + t);
        }
    }

    @Test
    void torchLinspaceIsSymmetricAndHitsEnds() {
        float[] x = TorchFloat32.linspace(-6, 6, 1000);
        assertEquals(-6f, x[0], 0f);
        assertEquals(6f, x[999], 0f);
        assertArrayEquals(new float[] {0.5f}, TorchFloat32.linspace(0.5, 2, 1));
    }

    @Test
    void timestepGrids() {
        assertArrayEquals(new int[] {751, 501, 251, 1}, TimestepGrid.discrete(TimestepSpacing.LEADING, 4, 1000, 1));
        assertArrayEquals(new int[] {999, 666, 333, 0}, TimestepGrid.discrete(TimestepSpacing.LINSPACE, 4, 1000, 1));
        assertArrayEquals(new int[] {999}, TimestepGrid.discrete(TimestepSpacing.TRAILING, 1, 1000, 0));
        for (int n : new int[] {2, 3, 4, 7, 8, 16, 61, 103, 1000}) {
            int[] t = TimestepGrid.discrete(TimestepSpacing.TRAILING, n, 1000, 0);
            assertEquals(n, t.length, "trailing length for " + n);
            for (int i = 0; i < n; i++) {
                assertEquals(Math.rint(1000 - i * 1000.0 / n) - 1, t[i], 1e-9, "trailing " + n + " step " + i);
            }
        }
        assertArrayEquals(new float[] {0f}, TimestepGrid.linspaceFloat(1, 1000));
        assertArrayEquals(new int[] {999, 759, 499, 259}, TimestepGrid.lcm(4, 1000, 50));
        assertThrows(IllegalArgumentException.class, () -> TimestepGrid.discrete(TimestepSpacing.LEADING, 1000, 1000, 1),
                "leading with offset past N - 1");
        assertThrows(IllegalArgumentException.class, () -> TimestepGrid.discrete(TimestepSpacing.LEADING, 0, 1000, 0));
        assertThrows(IllegalArgumentException.class, () -> TimestepGrid.lcm(51, 1000, 50));
    }

    @Test
    void karrasSigmasFollowEq5() {
        double[] s = Sigmas.karras(0.03, 14.6, 5);
        assertEquals(14.6, s[0], 1e-12);
        assertEquals(0.03, s[4], 1e-12);
        for (int i = 0; i < 5; i++) {
            double expected = Math.pow(Math.pow(14.6, 1 / 7.0) + i / 4.0 * (Math.pow(0.03, 1 / 7.0)
                    - Math.pow(14.6, 1 / 7.0)), 7);
            assertEquals(expected, s[i], 1e-12);
        }
    }

    @Test
    void sigmaToTimestepInvertsTheTable() {
        NoiseSchedule s = NoiseSchedule.of(ScheduleConfig.defaults());
        for (int t : new int[] {0, 1, 250, 500, 998, 999}) {
            assertEquals(t, s.sigmaToTimestep(s.sigma(t)), 1e-3, "t = " + t);
        }
        double mid = Math.exp((Math.log(s.sigma(500)) + Math.log(s.sigma(501))) / 2);
        assertEquals(500.5, s.sigmaToTimestep(mid), 1e-3);
    }

    private static ScheduleConfig parse(String json) {
        return ScheduleConfig.parse(JsonConfig.parse("test", json));
    }
}
