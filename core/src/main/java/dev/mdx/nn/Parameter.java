package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** A named weight slot: its shape is fixed by the module, its value is set by loading or initialisation. */
public final class Parameter {
    private final Shape shape;
    private NDArray value;

    Parameter(Shape shape) {
        this.shape = shape;
    }

    public Shape shape() {
        return shape;
    }

    public boolean isSet() {
        return value != null;
    }

    public NDArray get() {
        if (value == null) {
            throw new IllegalStateException("parameter of shape " + shape + " was never loaded or initialised");
        }
        return value;
    }

    /** Replaces the value; the caller owns the array's manager. The shape must match. */
    public void set(NDArray array) {
        if (!array.getShape().equals(shape)) {
            throw new IllegalArgumentException("expected shape " + shape + " but got " + array.getShape());
        }
        this.value = array;
    }
}
