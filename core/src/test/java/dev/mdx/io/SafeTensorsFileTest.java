package dev.mdx.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsFileTest {
    @TempDir
    Path dir;

    NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void roundTripsEveryDtypeWithMetadata() throws IOException {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        tensors.put("f32", manager.arange(12f).reshape(3, 4));
        tensors.put("f16", manager.arange(6f).reshape(2, 3).toType(DataType.FLOAT16, false));
        tensors.put("f64", manager.arange(5f).toType(DataType.FLOAT64, false));
        tensors.put("i64", manager.arange(0, 7, 1, DataType.INT64));
        tensors.put("i32", manager.arange(0, 3, 1, DataType.INT32));
        tensors.put("i8", manager.create(new byte[] {-3, 0, 5}));
        tensors.put("u8", manager.create(new byte[] {1, 2, (byte) 250}).toType(DataType.UINT8, false));
        tensors.put("bool", manager.create(new boolean[] {true, false, true}));
        tensors.put("scalar", manager.create(2.5f));
        tensors.put("empty", manager.zeros(new Shape(0, 3)));
        Path file = dir.resolve("all.safetensors");
        SafeTensorsWriter.write(file, tensors, Map.of("format", "pt", "note", "round trip"));

        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt", "note", "round trip"), st.metadata());
            assertEquals(tensors.keySet(), st.tensors().keySet());
            for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
                NDArray loaded = st.load(e.getKey(), manager);
                assertEquals(e.getValue().getDataType(), loaded.getDataType(), e.getKey());
                assertEquals(e.getValue().getShape(), loaded.getShape(), e.getKey());
                assertArrayEquals(e.getValue().toByteArray(), loaded.toByteArray(), e.getKey());
            }
            NDArray asF32 = st.load("f16", manager, DataType.FLOAT32);
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, asF32.toFloatArray());
        }
        assertTrue(Files.list(dir).allMatch(p -> p.getFileName().toString().equals("all.safetensors")),
                "the atomic writer leaves no temporary file behind");
    }

    @Test
    void bfloat16IsReadAsFloat32() throws IOException {
        // 1.0, -2.0, 0.15625, 3.0e38 (rounded) as bfloat16 bit patterns
        short[] bits = {(short) 0x3f80, (short) 0xc000, (short) 0x3e20, (short) 0x7f61};
        ByteBuffer data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : bits) {
            data.putShort(s);
        }
        Path file = write("{\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", data.array());
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            NDArray b = st.load("b", manager);
            assertEquals(DataType.FLOAT32, b.getDataType());
            assertEquals(new Shape(2, 2), b.getShape());
            assertArrayEquals(new float[] {1f, -2f, 0.15625f, Float.intBitsToFloat(0x7f610000)}, b.toFloatArray());
        }
    }

    @Test
    void loadedArraysOwnTheirMemoryAfterTheFileIsClosed() throws IOException {
        Path file = dir.resolve("own.safetensors");
        SafeTensorsWriter.write(file, Map.of("w", manager.arange(1000f)), Map.of());
        NDArray w;
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            w = st.load("w", manager);
        }
        Files.delete(file);
        assertEquals(499500f, w.sum().getFloat(), 0f);
    }

    @Test
    void headerOffsetsAreRelativeToTheDataSectionAndPadded() throws IOException {
        Path file = dir.resolve("one.safetensors");
        SafeTensorsWriter.write(file, Map.of("a", manager.create(new float[] {1, 2})), null);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertEquals(0, n % 8);
        assertEquals(8 + n + 8, Files.size(file));
    }

    // ---- corruption cases: each must give one clear error naming the problem ----

    @Test
    void truncatedFile() throws IOException {
        Path file = dir.resolve("t.safetensors");
        SafeTensorsWriter.write(file, Map.of("weight", manager.arange(64f)), null);
        byte[] all = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(all, all.length - 10));
        assertError(file, "'weight'", "past the end");
        Files.write(file, java.util.Arrays.copyOf(all, 5));
        assertError(file, "shorter than the 8-byte header length");
    }

    @Test
    void offsetsPastTheEnd() throws IOException {
        Path file = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 12);
        assertError(file, "'b'", "past the end");
    }

    @Test
    void overlappingTensors() throws IOException {
        Path file = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertError(file, "'a'", "'b'", "overlap");
    }

    @Test
    void wrongByteCount() throws IOException {
        Path file = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        assertError(file, "'a'", "holds 8 bytes", "needs 12");
    }

    @Test
    void unknownDtype() throws IOException {
        Path file = write("{\"a\":{\"dtype\":\"F12\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
        assertError(file, "'a'", "unknown dtype 'F12'");
    }

    @Test
    void hugeHeaderLengthIsRejectedWithoutAllocating() throws IOException {
        Path file = dir.resolve("huge.safetensors");
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(1L << 60);
        Files.write(file, b.array());
        assertError(file, "header length 1152921504606846976");
        b.putLong(0, -1L);
        Files.write(file, b.array());
        assertError(file, "header length 18446744073709551615");
    }

    @Test
    void headerLongerThanFile() throws IOException {
        Path file = dir.resolve("short.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(1000);
        Files.write(file, b.array());
        assertError(file, "runs past the end");
    }

    @Test
    void nonJsonHeader() throws IOException {
        assertError(write("not json at all {", 0), "not valid JSON");
        assertError(write("[1, 2, 3]", 0), "not a JSON object");
    }

    @Test
    void badShapeAndOffsetsAndMetadata() throws IOException {
        assertError(write("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), "'a'", "non-negative");
        assertError(write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8), "'a'", "not an interval");
        assertError(write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "'a'", "data_offsets");
        assertError(write("{\"__metadata__\":{\"k\":3}}", 0), "__metadata__");
        assertError(write("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8),
                "'a'", "too large");
    }

    @Test
    void missingFile() {
        assertError(dir.resolve("nope.safetensors"), "file not found");
    }

    private Path write(String header, int dataBytes) throws IOException {
        return write(header, new byte[dataBytes]);
    }

    private Path write(String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json).put(data);
        Path file = Files.createTempFile(dir, "case", ".safetensors");
        Files.write(file, b.array());
        return file;
    }

    private static void assertError(Path file, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafeTensorsFile.open(file).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should contain '" + f + "'");
        }
        assertTrue(e.getMessage().startsWith(file.toString()), "message names the file: " + e.getMessage());
    }
}
