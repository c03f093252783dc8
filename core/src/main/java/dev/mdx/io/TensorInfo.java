package dev.mdx.io;

import ai.djl.ndarray.types.Shape;

/** One entry of a safetensors header; begin and end are byte offsets relative to the data section. */
public record TensorInfo(String name, DType dtype, Shape shape, long begin, long end) {
    public long byteSize() {
        return end - begin;
    }
}
