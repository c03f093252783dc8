package dev.mdx.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mdx.MdxException;
import org.junit.jupiter.api.Test;

class EngineThreadsTest {
    @Test
    void setsTheIntraOpThreadCountOfTheLoadedEngine() {
        int saved = EngineThreads.current();
        try {
            EngineThreads.set(1);
            assertEquals(1, EngineThreads.current());
            int most = EngineThreads.maxThreads();
            EngineThreads.set(most);
            assertEquals(most, EngineThreads.current());
            assertEquals(Integer.toString(most), System.getProperty(EngineThreads.INTRA_OP_PROPERTY));
        } finally {
            EngineThreads.set(saved);
        }
        // more threads than cores only adds hand-offs (and thousands of them ignored SIGTERM)
        assertThrows(MdxException.class, () -> EngineThreads.set(0));
        assertThrows(MdxException.class, () -> EngineThreads.set(EngineThreads.maxThreads() + 1));
    }
}
