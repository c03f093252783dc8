package dev.mdx.export;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.mdx.MdxException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One exported graph loaded into ONNX Runtime, run on plain Java arrays: float32 or int64 inputs by name, one
 * float32 output. Sessions use {@code threads} intra-op threads (mdx's own engine runs models this small on one).
 */
public final class OrtGraph implements AutoCloseable {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    private final OrtSession session;
    private final String name;

    private OrtGraph(OrtSession session, String name) {
        this.session = session;
        this.name = name;
    }

    public static OrtGraph load(Path file, int threads) {
        try {
            return new OrtGraph(ENV.createSession(file.toString(), options(threads)), file.getFileName().toString());
        } catch (OrtException e) {
            throw new MdxException("ONNX Runtime cannot load " + file + ": " + e.getMessage(), e);
        }
    }

    public static OrtGraph load(byte[] model, String name, int threads) {
        try {
            return new OrtGraph(ENV.createSession(model, options(threads)), name);
        } catch (OrtException e) {
            throw new MdxException("ONNX Runtime cannot load the " + name + " graph: " + e.getMessage(), e);
        }
    }

    private static OrtSession.SessionOptions options(int threads) throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(threads);
        o.setInterOpNumThreads(1);
        return o;
    }

    /** A float32 input tensor of {@code shape}. */
    public static Input floats(float[] data, long... shape) {
        return new Input(data, null, shape);
    }

    /** An int64 input tensor of {@code shape}. */
    public static Input longs(long[] data, long... shape) {
        return new Input(null, data, shape);
    }

    /** One input's values and shape. */
    public record Input(float[] floats, long[] longs, long[] shape) {}

    /** The graph's single output. */
    public record Output(float[] data, long[] shape) {}

    /** Runs the graph on the named inputs and returns its first output. */
    public Output run(Map<String, Input> inputs) {
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Input> e : inputs.entrySet()) {
                Input in = e.getValue();
                tensors.put(e.getKey(), in.floats() != null
                        ? OnnxTensor.createTensor(ENV, FloatBuffer.wrap(in.floats()), in.shape())
                        : OnnxTensor.createTensor(ENV, LongBuffer.wrap(in.longs()), in.shape()));
            }
            try (OrtSession.Result result = session.run(tensors)) {
                OnnxTensor out = (OnnxTensor) result.get(0);
                FloatBuffer buffer = out.getFloatBuffer();
                float[] data = new float[buffer.remaining()];
                buffer.get(data);
                return new Output(data, out.getInfo().getShape());
            }
        } catch (OrtException e) {
            throw new MdxException("ONNX Runtime failed running the " + name + " graph: " + e.getMessage(), e);
        } finally {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}
