package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.io.DType;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.io.SafeTensorsWriter.RawTensor;
import dev.mdx.io.TensorInfo;
import dev.mdx.testing.DTypeSamples;
import dev.mdx.testing.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvertCommandTest {
    @TempDir
    Path tmp;

    @Test
    void aFolderBecomesHalfPrecisionWithTheSameValuesRoundedAndGenerates() throws Exception {
        Path micro = TestModels.microPipeline(tmp.resolve("micro"));
        Path half = tmp.resolve("half");
        CliRun r = CliRun.mdx("convert", micro.toString(), half.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("wrote " + half), r.out());
        assertTrue(Files.isRegularFile(half.resolve("model_index.json")), "non-weight files are copied");
        assertTrue(Files.isRegularFile(half.resolve("tokenizer/vocab.json")));

        Path weights = Path.of("unet", "diffusion_pytorch_model.safetensors");
        try (SafeTensorsFile before = SafeTensorsFile.open(micro.resolve(weights));
                SafeTensorsFile after = SafeTensorsFile.open(half.resolve(weights));
                NDManager m = NDManager.newBaseManager()) {
            assertEquals(before.tensors().keySet(), after.tensors().keySet());
            for (Map.Entry<String, TensorInfo> e : after.tensors().entrySet()) {
                assertEquals(DType.F16, e.getValue().dtype(), e.getKey());
                assertEquals(before.info(e.getKey()).shape(), e.getValue().shape(), e.getKey());
                float[] expected = before.load(e.getKey(), m, DataType.FLOAT16).toType(DataType.FLOAT32, false)
                        .toFloatArray();
                float[] actual = after.load(e.getKey(), m, DataType.FLOAT32).toFloatArray();
                assertTrue(java.util.Arrays.equals(expected, actual), "fp16 rounding of " + e.getKey());
            }
        }
        assertTrue(Files.size(half.resolve(weights)) < Files.size(micro.resolve(weights)), "smaller on disk");

        Path png = tmp.resolve("half.png");
        CliRun gen = CliRun.mdx("generate", "-m", half.toString(), "-p", "a fox", "--steps", "1", "-o", png.toString());
        assertEquals(0, gen.code(), gen.err());
        assertTrue(Files.size(png) > 0);
    }

    /** Every dtype the README lists goes through `mdx convert`; integer and boolean tensors keep their bytes. */
    @Test
    void everyListedDtypeConverts() throws Exception {
        for (DType dtype : DType.values()) {
            Path in = DTypeSamples.write(tmp.resolve("in-" + dtype + ".safetensors"), "t", dtype);
            Path out = tmp.resolve("out-" + dtype + ".safetensors");
            CliRun r = CliRun.mdx("convert", in.toString(), out.toString());
            assertEquals(ExitCodes.OK, r.code(), dtype + ": " + r.err());
            try (SafeTensorsFile st = SafeTensorsFile.open(out); NDManager m = NDManager.newBaseManager()) {
                assertEquals(dtype.floating() ? DType.F16 : dtype, st.info("t").dtype(), dtype.toString());
                assertArrayEquals(DTypeSamples.values(dtype), st.load("t", m, DataType.FLOAT64).toDoubleArray(),
                        dtype.toString());
            }
        }
    }

    /** A weight stored as I16 (a norm scale of ones, exact in any type) loads for generation, also after convert. */
    @Test
    void integerWeightsGenerate() throws Exception {
        Path model = TestModels.microPipeline(tmp.resolve("int16"));
        Path weights = model.resolve("unet/diffusion_pytorch_model.safetensors");
        String key = "conv_norm_out.weight";
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, RawTensor> tensors = new LinkedHashMap<>();
            try (SafeTensorsFile st = SafeTensorsFile.open(weights)) {
                for (String k : st.tensors().keySet()) {
                    tensors.put(k, RawTensor.of(st.load(k, m)));
                }
            }
            NDArray ones = m.ones(tensors.get(key).shape(), DataType.INT32);
            ByteBuffer int16 = ByteBuffer.allocate((int) ones.size() * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : ones.toIntArray()) {
                int16.putShort((short) v);
            }
            tensors.put(key, new RawTensor(DType.I16, ones.getShape(), int16.flip()));
            SafeTensorsWriter.writeRaw(weights, tensors, Map.of("format", "pt"));
        }
        Path half = tmp.resolve("int16-half");
        assertEquals(ExitCodes.OK, CliRun.mdx("convert", model.toString(), half.toString()).code());
        for (Path folder : new Path[] {model, half}) {
            Path png = tmp.resolve(folder.getFileName() + ".png");
            CliRun gen = CliRun.mdx("generate", "-m", folder.toString(), "-p", "a fox", "--steps", "1", "-o",
                    png.toString());
            assertEquals(ExitCodes.OK, gen.code(), folder + ": " + gen.err());
            assertTrue(Files.size(png) > 0);
        }
    }

    @Test
    void badInputIsOneLine() {
        CliRun type = CliRun.mdx("convert", tmp.toString(), tmp.resolve("o").toString(), "--type", "q4");
        assertEquals(ExitCodes.USAGE, type.code(), type.err());
        assertTrue(type.err().contains("--type must be f16 or f32, got 'q4'"), type.err());

        CliRun missing = CliRun.mdx("convert", tmp.resolve("none").toString(), tmp.resolve("o").toString());
        assertEquals(ExitCodes.FAILURE, missing.code(), missing.err());
        assertTrue(missing.err().contains("none does not exist"), missing.err());
        assertFalse(missing.err().contains("\tat "), missing.err());
    }
}
