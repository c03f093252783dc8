package dev.mdx.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated, lazily read safetensors file. The header is checked completely when the file is opened; tensor
 * bytes are memory-mapped on demand and copied once into the engine.
 */
public final class SafeTensorsFile implements AutoCloseable {
    /** The reference implementation refuses headers above 100 MB; so do we. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafeTensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafeTensorsFile open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(path + ": file not found");
        } catch (IOException e) {
            throw new ModelFormatException(path + ": cannot open: " + e.getMessage(), e);
        }
        try {
            return read(path, channel);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new ModelFormatException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static SafeTensorsFile read(Path path, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw bad(path, "file is " + fileSize + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lenBuf, 0);
        long headerLen = lenBuf.getLong(0);
        if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
            throw bad(path, "header length " + Long.toUnsignedString(headerLen)
                    + " is not between 2 and " + MAX_HEADER_BYTES + " bytes");
        }
        if (8 + headerLen > fileSize) {
            throw bad(path, "header length " + headerLen + " runs past the end of the " + fileSize + "-byte file");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
        readFully(channel, headerBuf, 8);
        JsonNode header;
        try {
            header = JSON.readTree(new String(headerBuf.array(), StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw bad(path, "header is not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (header == null || !header.isObject()) {
            throw bad(path, "header is not a JSON object");
        }
        long dataStart = 8 + headerLen;
        long dataLen = fileSize - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> infos = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                readMetadata(path, e.getValue(), metadata);
            } else {
                infos.add(readInfo(path, e.getKey(), e.getValue(), dataLen));
            }
        }
        checkNoOverlap(path, infos);
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        infos.forEach(i -> tensors.put(i.name(), i));
        return new SafeTensorsFile(path, channel, dataStart, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(Path path, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw bad(path, "__metadata__ is not a JSON object");
        }
        node.fields().forEachRemaining(m -> {
            if (!m.getValue().isTextual()) {
                throw bad(path, "__metadata__ value of '" + m.getKey() + "' is not a string");
            }
            out.put(m.getKey(), m.getValue().asText());
        });
    }

    private static TensorInfo readInfo(Path path, String name, JsonNode node, long dataLen) {
        if (!node.isObject()) {
            throw bad(path, "tensor '" + name + "': entry is not a JSON object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw bad(path, "tensor '" + name + "': missing dtype");
        }
        DType dtype = DType.parse(dtypeNode.asText());
        if (dtype == null) {
            throw bad(path, "tensor '" + name + "': unknown dtype '" + dtypeNode.asText() + "'");
        }
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw bad(path, "tensor '" + name + "': missing shape");
        }
        long[] dims = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw bad(path, "tensor '" + name + "': shape " + shapeNode + " is not a list of non-negative integers");
            }
            dims[i] = d.asLong();
            try {
                elements = Math.multiplyExact(elements, dims[i]);
            } catch (ArithmeticException overflow) {
                throw bad(path, "tensor '" + name + "': shape " + shapeNode + " is too large");
            }
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw bad(path, "tensor '" + name + "': data_offsets must be two integers");
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw bad(path, "tensor '" + name + "': data_offsets [" + begin + ", " + end + "] are not an interval");
        }
        if (end > dataLen) {
            throw bad(path, "tensor '" + name + "': data_offsets [" + begin + ", " + end
                    + "] run past the end of the data (" + dataLen + " bytes; file truncated?)");
        }
        long expected;
        try {
            expected = Math.multiplyExact(elements, dtype.bytes());
        } catch (ArithmeticException overflow) {
            throw bad(path, "tensor '" + name + "': shape " + shapeNode + " is too large");
        }
        if (end - begin != expected) {
            throw bad(path, "tensor '" + name + "': holds " + (end - begin) + " bytes but shape "
                    + shapeNode + " of " + dtype + " needs " + expected);
        }
        return new TensorInfo(name, dtype, new Shape(dims), begin, end);
    }

    private static void checkNoOverlap(Path path, List<TensorInfo> infos) {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo prev = sorted.get(i - 1);
            TensorInfo cur = sorted.get(i);
            if (cur.begin() < prev.end()) {
                throw bad(path, "tensors '" + prev.name() + "' and '" + cur.name() + "' overlap (bytes ["
                        + prev.begin() + ", " + prev.end() + ") and [" + cur.begin() + ", " + cur.end() + "))");
            }
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new ModelFormatException(path + ": no tensor named '" + name + "'");
        }
        return info;
    }

    /** The raw little-endian bytes of a tensor, memory-mapped (no copy). */
    public ByteBuffer bytes(String name) {
        TensorInfo info = info(name);
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin(), info.byteSize())
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new ModelFormatException(path + ": cannot map tensor '" + name + "': " + e.getMessage(), e);
        }
    }

    /**
     * Loads a tensor into {@code manager} in its stored dtype, or the engine type that holds it exactly (see
     * {@link DType#djl()}: BF16 becomes FLOAT32, I16 becomes INT32): one copy from the mapped file into engine memory.
     */
    public NDArray load(String name, NDManager manager) {
        return load(name, manager, null);
    }

    /**
     * Loads a tensor, converting to {@code as} if non-null (e.g. fp16 weights to FLOAT32). The mapped bytes are
     * copied once into engine memory; no Java heap copy is made.
     */
    public NDArray load(String name, NDManager manager, DataType as) {
        if (as == DataType.BFLOAT16 || as == DataType.INT16) {
            throw new IllegalArgumentException("the engine cannot hold " + as + " arrays");
        }
        TensorInfo info = info(name);
        DType dtype = info.dtype();
        DataType target = as == null ? dtype.djl() : as;
        if (info.shape().size() == 0) {
            return manager.zeros(info.shape(), target);
        }
        if (dtype.widened()) {
            NDArray widened = manager.create(widen(dtype, bytes(name)), info.shape(), dtype.djl());
            if (target == dtype.djl()) {
                return widened;
            }
            NDArray converted = widened.toType(target, false);
            widened.close();
            return converted;
        }
        try (NDManager scratch = manager.newSubManager()) {
            // The array made from a direct buffer aliases the mapping; duplicate() or toType() copies it out.
            NDArray aliased = scratch.create(bytes(name), info.shape(), dtype.djl());
            NDArray owned = target == dtype.djl() ? aliased.duplicate() : aliased.toType(target, true);
            owned.attach(manager);
            return owned;
        }
    }

    /**
     * The 4-byte values of a BF16 or I16 tensor, in a direct (off-heap) buffer: bfloat16 is the upper half of a
     * float32, an int16 is sign-extended.
     */
    private static ByteBuffer widen(DType dtype, ByteBuffer narrow) {
        int n = narrow.remaining() / 2;
        ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            short s = narrow.getShort(2 * i);
            out.putInt(dtype == DType.BF16 ? (s & 0xffff) << 16 : s);
        }
        return out.rewind();
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static ModelFormatException bad(Path path, String what) {
        return new ModelFormatException(path + ": invalid safetensors file: " + what);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing a read-only channel loses nothing
        }
    }
}
