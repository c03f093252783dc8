package dev.mdx.export;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;

/**
 * One ONNX graph under construction: inputs, outputs, nodes in execution order and initializers. Weights are stored
 * in the graph's {@link OnnxPrecision}; with fp16 each weight is followed by a Cast to float, so the arithmetic stays
 * float32 (ONNX Runtime folds the casts when it loads the graph). Values are named by the caller's hint plus a
 * counter, so a name in an error message or a profile says which module it came from.
 */
final class OnnxGraph {
    /** ONNX opset 17: the first with LayerNormalization; ONNX Runtime (Java and web) runs it. */
    static final int OPSET = 17;
    /** The IR version that opset 17 belongs to (ONNX 1.12). */
    static final long IR_VERSION = 8;

    /** What one protobuf message may hold, less room for the nodes. */
    private static final long MAX_PROTO_BYTES = Integer.MAX_VALUE - (64L << 20);

    /** The largest finite float16. */
    private static final float HALF_MAX = 65504f;

    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int INT64 = TensorProto.DataType.INT64_VALUE;
    private static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final OnnxPrecision precision;
    private final Map<String, Integer> counters = new HashMap<>();
    private final Map<String, String> constants = new HashMap<>();
    private long initializerBytes;

    private final long maxBytes;

    OnnxGraph(String name, OnnxPrecision precision) {
        this(name, precision, MAX_PROTO_BYTES);
    }

    /** With another weight limit, for tests of the check. */
    OnnxGraph(String name, OnnxPrecision precision, long maxBytes) {
        this.precision = precision;
        this.maxBytes = maxBytes;
        graph.setName(name);
    }

    /** A graph input; a dimension is a Long (fixed) or a String (symbolic, e.g. "batch"). */
    String input(String name, int elemType, Object... dims) {
        graph.addInput(valueInfo(name, elemType, dims));
        return name;
    }

    /** Names {@code value} as a graph output {@code name}. */
    void output(String value, String name, int elemType, Object... dims) {
        graph.addNode(NodeProto.newBuilder().setOpType("Identity").setName(name + "/output")
                .addInput(value).addOutput(name));
        graph.addOutput(valueInfo(name, elemType, dims));
    }

    /** A node with one output, named after {@code hint}. */
    String op(String opType, String hint, List<String> inputs, AttributeProto... attrs) {
        return ops(opType, hint, 1, inputs, attrs)[0];
    }

    String op(String opType, String hint, String... inputs) {
        return op(opType, hint, List.of(inputs));
    }

    /** A node with {@code outputs} outputs. */
    String[] ops(String opType, String hint, int outputs, List<String> inputs, AttributeProto... attrs) {
        String base = fresh(hint + "/" + opType);
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(opType).setName(base).addAllInput(inputs);
        String[] names = new String[outputs];
        for (int i = 0; i < outputs; i++) {
            names[i] = outputs == 1 ? base : base + ":" + i;
            node.addOutput(names[i]);
        }
        for (AttributeProto a : attrs) {
            node.addAttribute(a);
        }
        graph.addNode(node);
        return names;
    }

    /**
     * A float weight of this graph's precision, float32 to the nodes that read it. {@code data} is row-major in
     * {@code shape}; fp16 rounds to nearest even as torch's {@code .half()}.
     */
    String weight(String key, float[] data, long... shape) {
        if (precision == OnnxPrecision.FP32) {
            graph.addInitializer(tensor(key, FLOAT, floatBytes(data), shape));
            return key;
        }
        for (float v : data) {
            if (Math.abs(v) > HALF_MAX) {
                throw new UnsupportedExportException("weight " + key + " holds " + v + ", beyond float16's range, in"
                        + " an fp16 export; export it with --precision fp32");
            }
        }
        graph.addInitializer(tensor(key, FLOAT16, halfBytes(data), shape));
        return op("Cast", key, List.of(key), attr("to", FLOAT));
    }

    /** A weight from an mdx parameter array, in its own shape. */
    String weight(String key, NDArray value) {
        return weight(key, value.toType(DataType.FLOAT32, false).toFloatArray(), value.getShape().getShape());
    }

    /** A float32 constant whatever the precision (masks, frequencies: values fp16 cannot hold exactly). */
    String constant(String key, float[] data, long... shape) {
        graph.addInitializer(tensor(key, FLOAT, floatBytes(data), shape));
        return key;
    }

    /** A float32 scalar constant, shared by every node that needs the same value. */
    String scalar(float value) {
        return constants.computeIfAbsent("f" + Float.floatToIntBits(value),
                k -> constant(fresh("const/" + value), new float[] {value}));
    }

    /** A 1-D int64 constant, shared by every node that needs the same values. */
    String ints(long... values) {
        return constants.computeIfAbsent("i" + java.util.Arrays.toString(values), k -> {
            ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : values) {
                b.putLong(v);
            }
            String name = fresh("const/ints");
            graph.addInitializer(tensor(name, INT64, b.array(), values.length));
            return name;
        });
    }

    /**
     * The finished model. A protobuf message holds at most 2 GB, so bigger graphs would need ONNX's external data
     * files, which this exporter does not write.
     */
    ModelProto model(String producerVersion, String docString) {
        if (initializerBytes > maxBytes) {
            throw new UnsupportedExportException(String.format(java.util.Locale.ROOT, "a %s graph of %.2f GB of"
                    + " weights (ONNX external data, needed past 2 GB)%s", graph.getName(), initializerBytes / 1e9,
                    precision == OnnxPrecision.FP32 ? "; --precision fp16 halves it" : ""));
        }
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("mdx")
                .setProducerVersion(producerVersion)
                .setDocString(docString)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(graph)
                .build();
    }

    static AttributeProto attr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto attr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value)
                .build();
    }

    static AttributeProto attr(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    static AttributeProto attr(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private String fresh(String hint) {
        int n = counters.merge(hint, 1, Integer::sum);
        return n == 1 ? hint : hint + "_" + n;
    }

    private TensorProto tensor(String name, int type, byte[] raw, long... shape) {
        initializerBytes += raw.length;
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type).setRawData(ByteString.copyFrom(raw));
        for (long d : shape) {
            t.addDims(d);
        }
        return t.build();
    }

    private static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String s) {
                dim.setDimParam(s);
            } else {
                dim.setDimValue(((Number) d).longValue());
            }
            shape.addDim(dim);
        }
        TypeProto type = TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape)).build();
        return ValueInfoProto.newBuilder().setName(name).setType(type).build();
    }

    private static byte[] floatBytes(float[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        return b.array();
    }

    /** float32 -> IEEE half, little-endian, through libtorch's cast (round to nearest even). */
    private static byte[] halfBytes(float[] data) {
        try (NDManager m = NDManager.newBaseManager()) {
            ByteBuffer half = m.create(data).toType(DataType.FLOAT16, false).toByteBuffer();
            byte[] out = new byte[half.remaining()];
            half.order(ByteOrder.LITTLE_ENDIAN).get(out);
            return out;
        }
    }
}
