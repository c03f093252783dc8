package dev.mdx.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class DataOrderTest {
    private static final int[] POOL = IntStream.range(100, 150).toArray();

    @Test
    void everyEpochIsAPermutationAndEpochsDiffer() {
        DataOrder order = new DataOrder(POOL, 5);
        int[] epoch0 = new int[50];
        int[] epoch1 = new int[50];
        for (int b = 0; b < 5; b++) {
            System.arraycopy(order.next(10), 0, epoch0, b * 10, 10);
        }
        for (int b = 0; b < 5; b++) {
            System.arraycopy(order.next(10), 0, epoch1, b * 10, 10);
        }
        assertEquals(1, order.epoch());
        assertArrayEquals(POOL, sorted(epoch0));
        assertArrayEquals(POOL, sorted(epoch1));
        assertFalse(Arrays.equals(epoch0, epoch1));
        assertFalse(Arrays.equals(POOL, epoch0), "shuffled");
    }

    @Test
    void resumesExactlyFromASavedStateThroughJson() throws Exception {
        DataOrder a = new DataOrder(POOL, 9);
        for (int i = 0; i < 7; i++) {
            a.next(8);
        }
        ObjectMapper mapper = new ObjectMapper();
        String saved = mapper.writeValueAsString(a.state());
        DataOrder b = DataOrder.resume(POOL, mapper.readValue(saved, DataOrder.State.class));
        for (int i = 0; i < 20; i++) {
            assertArrayEquals(a.next(8), b.next(8), "batch " + i + " after resume");
        }
        assertEquals(a.state(), b.state());
    }

    @Test
    void seedChangesTheOrderAndShortTailsStartANewEpoch() {
        assertFalse(Arrays.equals(new DataOrder(POOL, 1).next(50), new DataOrder(POOL, 2).next(50)));
        DataOrder order = new DataOrder(POOL, 1);
        order.next(30);
        order.next(30);
        assertEquals(new DataOrder.State(1, 50, 1, 30), order.state());
    }

    @Test
    void rejectsAStateForAnotherPool() {
        DataOrder.State state = new DataOrder(POOL, 1).state();
        assertThrows(IllegalArgumentException.class, () -> DataOrder.resume(new int[] {1, 2, 3}, state));
        assertThrows(IllegalArgumentException.class, () -> new DataOrder(POOL, 1).next(51));
    }

    private static int[] sorted(int[] a) {
        int[] s = a.clone();
        Arrays.sort(s);
        return s;
    }
}
