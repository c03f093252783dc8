package dev.mdx.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class EngineThreadsTest {
    @Test
    void setsTheIntraOpThreadCountOfTheLoadedEngine() {
        int saved = EngineThreads.current();
        try {
            EngineThreads.set(1);
            assertEquals(1, EngineThreads.current());
            EngineThreads.set(2);
            assertEquals(2, EngineThreads.current());
            assertEquals("2", System.getProperty(EngineThreads.INTRA_OP_PROPERTY));
        } finally {
            EngineThreads.set(saved);
        }
        assertThrows(IllegalArgumentException.class, () -> EngineThreads.set(0));
    }
}
