package dev.mdx.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes safetensors files atomically: a temporary file in the same folder, then a rename. Arrays are written in
 * their own dtype (the engine cannot hold BF16, so mdx writes F32 or F16).
 */
public final class SafeTensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafeTensorsWriter() {}

    /** A tensor as its dtype, shape and little-endian bytes: how types the engine cannot hold (I16) are copied. */
    public record RawTensor(DType dtype, Shape shape, ByteBuffer bytes) {
        public static RawTensor of(NDArray a) {
            return new RawTensor(DType.of(a.getDataType()), a.getShape(), a.toByteBuffer());
        }
    }

    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) {
        Map<String, RawTensor> raw = new LinkedHashMap<>();
        tensors.forEach((name, a) -> raw.put(name, RawTensor.of(a)));
        writeRaw(file, raw, metadata);
    }

    public static void writeRaw(Path file, Map<String, RawTensor> tensors, Map<String, String> metadata) {
        Map<String, ByteBuffer> data = new LinkedHashMap<>();
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, RawTensor> e : tensors.entrySet()) {
            RawTensor t = e.getValue();
            ByteBuffer bytes = t.bytes().duplicate().order(ByteOrder.LITTLE_ENDIAN);
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", t.dtype().name());
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape().getShape()) {
                shape.add(d);
            }
            ArrayNode offsets = entry.putArray("data_offsets");
            offsets.add(offset);
            offset += bytes.remaining();
            offsets.add(offset);
            data.put(e.getKey(), bytes);
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        AtomicFiles.write(file, ch -> {
            writeFully(ch, head);
            for (ByteBuffer b : data.values()) {
                writeFully(ch, b);
            }
        });
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

}
