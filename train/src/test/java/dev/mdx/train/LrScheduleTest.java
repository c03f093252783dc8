package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
    @Test
    void warmupThenCosineToTheFloor() {
        LrSchedule s = new LrSchedule(1.0, 10, 111, 0.1);
        assertEquals(0.1, s.at(0), 1e-12, "first warmup step is peak/warmup, never zero");
        assertEquals(0.5, s.at(4), 1e-12);
        assertEquals(1.0, s.at(9), 1e-12, "last warmup step reaches the peak");
        assertEquals(1.0, s.at(10), 1e-12, "cosine starts at the peak");
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 4)), s.at(35), 1e-12);
        assertEquals(0.55, s.at(60), 1e-12, "half way down the cosine");
        assertEquals(0.1, s.at(110), 1e-12, "last step is at the floor");
        assertEquals(0.1, s.at(500), 1e-12, "past the end stays at the floor");
        for (int t = 11; t < 111; t++) {
            assertTrue(s.at(t) < s.at(t - 1), "strictly decreasing after warmup at " + t);
        }
    }

    @Test
    void noWarmupAndSingleStep() {
        assertEquals(2e-4, new LrSchedule(2e-4, 0, 100, 0).at(0), 0);
        assertEquals(0.0, new LrSchedule(2e-4, 0, 100, 0).at(99), 1e-20);
        assertEquals(3.0, new LrSchedule(3.0, 0, 1, 0.5).at(0), 0);
    }

    @Test
    void rejectsBadValues() {
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(0, 0, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(1, -1, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(1, 0, 10, 2));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(1, 0, 10, 0).at(-1));
    }
}
