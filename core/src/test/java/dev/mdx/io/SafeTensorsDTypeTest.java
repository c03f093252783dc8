package dev.mdx.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.nn.Module;
import dev.mdx.testing.DTypeSamples;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every dtype the README lists, written byte by byte, through each way mdx reads weights: loading as stored,
 * loading into a module (as float32, as torch's load_state_dict casts), and conversion to f16 and f32. Some of
 * these types exist in libtorch but not in DJL's binding (a bfloat16 or int16 array aborts the JVM), so a failure
 * here can also show as a crashed test fork.
 */
class SafeTensorsDTypeTest {
    @TempDir
    Path dir;

    private static final class OneWeight extends Module {
        OneWeight() {
            parameter("w", DTypeSamples.SHAPE);
        }
    }

    private Path sample(DType dtype) {
        return DTypeSamples.write(dir.resolve(dtype + ".safetensors"), "w", dtype);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void loadsWithItsValues(DType dtype) {
        try (SafeTensorsFile st = SafeTensorsFile.open(sample(dtype)); NDManager m = NDManager.newBaseManager()) {
            NDArray a = st.load("w", m);
            assertEquals(new Shape(DTypeSamples.SHAPE), a.getShape());
            assertArrayEquals(DTypeSamples.values(dtype), a.toType(DataType.FLOAT64, false).toDoubleArray(),
                    dtype.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void loadsIntoAModuleAsFloat32(DType dtype) {
        OneWeight module = new OneWeight();
        try (NDManager m = NDManager.newBaseManager()) {
            StateDicts.load(module, sample(dtype), m);
            NDArray w = module.namedParameters().get("w").get();
            assertEquals(DataType.FLOAT32, w.getDataType());
            assertArrayEquals(DTypeSamples.floats(dtype), w.toFloatArray(), dtype.toString());
        }
    }

    /** Floating tensors take the target type; integer and boolean ones are copied byte for byte. */
    @ParameterizedTest
    @EnumSource(DType.class)
    void convertsToF16AndF32(DType dtype) {
        Path in = sample(dtype);
        boolean floating = dtype == DType.F64 || dtype == DType.F32 || dtype == DType.F16 || dtype == DType.BF16;
        for (DType target : new DType[] {DType.F16, DType.F32}) {
            Path out = dir.resolve(dtype + "-as-" + target + ".safetensors");
            SafeTensorsConverter.convert(in, out, target);
            try (SafeTensorsFile st = SafeTensorsFile.open(out); NDManager m = NDManager.newBaseManager()) {
                String what = dtype + " converted to " + target;
                assertEquals(floating ? target : dtype, st.info("w").dtype(), what);
                assertEquals(new Shape(DTypeSamples.SHAPE), st.info("w").shape(), what);
                if (!floating) {
                    ByteBuffer bytes = st.bytes("w");
                    byte[] raw = new byte[bytes.remaining()];
                    bytes.get(raw);
                    assertArrayEquals(DTypeSamples.bytes(dtype), raw, what);
                }
                assertArrayEquals(DTypeSamples.values(dtype),
                        st.load("w", m, DataType.FLOAT64).toDoubleArray(), what);
            }
        }
    }
}
