package dev.mdx.io;

import ai.djl.ndarray.types.DataType;

/**
 * The safetensors element types mdx reads and writes, with their byte widths and the engine type that holds each
 * one once loaded. DJL 0.36's libtorch binding aborts the JVM on any bfloat16 or int16 array, so those two are
 * widened in Java (to float32 and int32, both exact) and never handed to the engine as themselves.
 */
public enum DType {
    F64(8, DataType.FLOAT64),
    F32(4, DataType.FLOAT32),
    F16(2, DataType.FLOAT16),
    BF16(2, DataType.FLOAT32),
    I64(8, DataType.INT64),
    I32(4, DataType.INT32),
    I16(2, DataType.INT32),
    I8(1, DataType.INT8),
    U8(1, DataType.UINT8),
    BOOL(1, DataType.BOOLEAN);

    private final int bytes;
    private final DataType djl;

    DType(int bytes, DataType djl) {
        this.bytes = bytes;
        this.djl = djl;
    }

    public int bytes() {
        return bytes;
    }

    /** The engine type a loaded tensor of this dtype has. */
    public DataType djl() {
        return djl;
    }

    /** True for the dtypes the engine cannot hold, which are widened in Java when loaded. */
    public boolean widened() {
        return djl.getNumOfBytes() != bytes;
    }

    public boolean floating() {
        return djl.isFloating();
    }

    /** Returns null for a name that is not a known dtype. */
    public static DType parse(String name) {
        return EnumNames.find(values(), DType::name, name);
    }

    /** The dtype an engine array of {@code type} is written as. */
    public static DType of(DataType type) {
        for (DType d : values()) {
            if (d.djl == type && !d.widened()) {
                return d;
            }
        }
        throw new IllegalArgumentException("no safetensors dtype for " + type);
    }
}
