package dev.mdx.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * libtorch operations that DJL 0.36's API does not expose, run through a small TorchScript module that mdx writes
 * itself (no Python needed): the fused {@code scaled_dot_product_attention} (flash attention on CPU, which never
 * stores the N x N scores), the native {@code group_norm} kernel, and bfloat16 convolutions, linear layers and
 * attention.
 *
 * <p>Why TorchScript for bfloat16: DJL 0.36's native dtype mapping ({@code GetScalarTypeFromDType} in its JNI
 * library) has no case for {@code DataType.BFLOAT16} (ordinal 11) and ends in a bare {@code throw;}, so
 * {@code toType(BFLOAT16)} or creating a bf16 array terminates the JVM ("terminate called without an active
 * exception"). A TorchScript method can cast ({@code torch.to(x, 15)}) and DJL handles the resulting arrays by
 * handle; their {@code getDataType()} reads {@code UNKNOWN}, so DJL must never be asked to create an array "like"
 * one of them (zeros of its dtype and so on): the bf16 arrays live only inside these methods and as weight copies.
 *
 * <p>Used only for inference: DJL's method calls do not record autograd the way its own ops do, so callers keep
 * their composite ops while a GradientCollector records ({@link #usable()}).
 */
public final class ScriptedOps {
    private static final String CODE = String.join("\n",
            "class Ops(Module):",
            "  __parameters__ = []",
            "  __buffers__ = []",
            "  training : bool",
            "  def forward(self: __torch__.Ops, x: Tensor) -> Tensor:",
            "    return x",
            "  def to_bf16(self: __torch__.Ops, x: Tensor) -> Tensor:",
            "    return torch.to(x, 15)",
            "  def attention(self: __torch__.Ops, q: Tensor, k: Tensor, v: Tensor) -> Tensor:",
            "    return torch.scaled_dot_product_attention(q, k, v, None, 0., False, scale=1.)",
            "  def attention_masked(self: __torch__.Ops, q: Tensor, k: Tensor, v: Tensor, m: Tensor) -> Tensor:",
            "    return torch.scaled_dot_product_attention(q, k, v, m, 0., False, scale=1.)",
            "  def attention_bf16(self: __torch__.Ops, q: Tensor, k: Tensor, v: Tensor) -> Tensor:",
            "    o = torch.scaled_dot_product_attention(torch.to(q, 15), torch.to(k, 15), torch.to(v, 15), None, 0.,"
                    + " False, scale=1.)",
            "    return torch.to(o, 6)",
            "  def group_norm(self: __torch__.Ops, x: Tensor, g: int, w: Tensor, b: Tensor, eps: float) -> Tensor:",
            "    return torch.group_norm(x, g, w, b, eps)",
            "  def linear_bf16(self: __torch__.Ops, x: Tensor, w: Tensor, b: Tensor) -> Tensor:",
            "    return torch.to(torch.linear(torch.to(x, 15), w, b), 6)",
            "  def linear_bf16_nobias(self: __torch__.Ops, x: Tensor, w: Tensor) -> Tensor:",
            "    return torch.to(torch.linear(torch.to(x, 15), w), 6)",
            "  def conv_bf16(self: __torch__.Ops, x: Tensor, w: Tensor, b: Tensor, s: int, p: int, g: int) -> Tensor:",
            "    return torch.to(torch.conv2d(torch.to(x, 15), w, b, [s, s], [p, p], [1, 1], g), 6)",
            "  def conv_bf16_nobias(self: __torch__.Ops, x: Tensor, w: Tensor, s: int, p: int, g: int) -> Tensor:",
            "    return torch.to(torch.conv2d(torch.to(x, 15), w, None, [s, s], [p, p], [1, 1], g), 6)",
            "");

    /** Set to true to run every op through DJL's own API (the composite ops; bf16 then falls back to fp32). */
    public static final String DISABLE_PROPERTY = "mdx.noScriptedOps";
    private static PtSymbolBlock module;
    private static RuntimeException loadFailure;

    private ScriptedOps() {}

    /** True when the module loaded and no autograd is recording (the scripted ops are for inference). */
    public static boolean usable() {
        return !JniUtils.isGradMode() && loaded();
    }

    /** True when the module loaded (it is loaded on the first call). */
    public static boolean loaded() {
        return module() != null;
    }

    /** Why the module could not be loaded, or null when it loaded (or was not tried yet). */
    public static synchronized String loadFailure() {
        return loadFailure == null ? null : loadFailure.getMessage();
    }

    /** Softmax attention on (B, H, Nq, D) pre-scaled queries and (B, H, Nk, D) keys and values, fp32 in and out. */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask, boolean bf16) {
        if (mask != null) {
            return run(q, "attention_masked", IValue.from(pt(q)), IValue.from(pt(k)), IValue.from(pt(v)),
                    IValue.from(pt(mask)));
        }
        return run(q, bf16 ? "attention_bf16" : "attention", IValue.from(pt(q)), IValue.from(pt(k)),
                IValue.from(pt(v)));
    }

    /** libtorch's fused GroupNorm kernel (one pass for the statistics, one for the affine normalisation). */
    public static NDArray groupNorm(NDArray x, int groups, NDArray weight, NDArray bias, float eps) {
        return run(x, "group_norm", IValue.from(pt(x)), IValue.from((long) groups), IValue.from(pt(weight)),
                IValue.from(pt(bias)), IValue.from((double) eps));
    }

    /** A bfloat16 copy of {@code x}, in {@code owner}'s manager (for weights: made once, see LowPrecisionWeights). */
    public static NDArray toBf16(NDArray x, NDArray owner) {
        return run(owner, "to_bf16", IValue.from(pt(x)));
    }

    /** y = x W^T + b with x fp32 and W, b bfloat16 copies: the product in bf16, the result fp32. */
    public static NDArray linearBf16(NDArray x, NDArray weight, NDArray bias) {
        return bias == null
                ? run(x, "linear_bf16_nobias", IValue.from(pt(x)), IValue.from(pt(weight)))
                : run(x, "linear_bf16", IValue.from(pt(x)), IValue.from(pt(weight)), IValue.from(pt(bias)));
    }

    /** Conv2d with x fp32 and W, b bfloat16 copies: the convolution in bf16, the result fp32. */
    public static NDArray conv2dBf16(NDArray x, NDArray weight, NDArray bias, int stride, int padding, int groups) {
        IValue s = IValue.from((long) stride);
        IValue p = IValue.from((long) padding);
        IValue g = IValue.from((long) groups);
        return bias == null
                ? run(x, "conv_bf16_nobias", IValue.from(pt(x)), IValue.from(pt(weight)), s, p, g)
                : run(x, "conv_bf16", IValue.from(pt(x)), IValue.from(pt(weight)), IValue.from(pt(bias)), s, p, g);
    }

    /** Runs a method; the result belongs to {@code owner}'s manager, every IValue is freed. */
    private static NDArray run(NDArray owner, String method, IValue... args) {
        PtSymbolBlock m = module();
        if (m == null) {
            closeAll(args);
            throw new IllegalStateException("the scripted ops are not available: " + loadFailure());
        }
        try (IValue result = IValueUtils.runMethod(m, method, args)) {
            return result.toTensor((PtNDManager) owner.getManager());
        } finally {
            closeAll(args);
        }
    }

    private static void closeAll(IValue[] args) {
        for (IValue a : args) {
            a.close();
        }
    }

    private static PtNDArray pt(NDArray a) {
        return (PtNDArray) a;
    }

    /** The module, loaded on first use into a manager that lives as long as the process; null if it failed. */
    private static synchronized PtSymbolBlock module() {
        if (module == null && loadFailure == null) {
            if (Boolean.getBoolean(DISABLE_PROPERTY)) {
                loadFailure = new IllegalStateException("disabled by -D" + DISABLE_PROPERTY);
                return null;
            }
            try {
                EngineThreads.loadEngine();
                PtNDManager owner = (PtNDManager) ai.djl.ndarray.NDManager.newBaseManager();
                module = JniUtils.loadModule(owner, new ByteArrayInputStream(archive()), false, false);
            } catch (RuntimeException e) {
                loadFailure = e;
            } catch (IOException e) {
                loadFailure = new UncheckedIOException(e);
            }
        }
        return module;
    }

    /**
     * A TorchScript archive as {@code torch.jit.save} writes it, minus the debug files: a zip (entries stored)
     * with the class's source, the pickled module object (protocol 2: {@code __torch__.Ops} with its one
     * attribute, {@code training = True}), an empty constants table and the format version.
     */
    static byte[] archive() throws IOException {
        ByteArrayOutputStream pickle = new ByteArrayOutputStream();
        pickle.write(new byte[] {(byte) 0x80, 2}); // PROTO 2
        pickle.write(ascii("c__torch__\nOps\n")); // GLOBAL __torch__.Ops
        pickle.write(new byte[] {')', (byte) 0x81, '}'}); // EMPTY_TUPLE, NEWOBJ, EMPTY_DICT
        byte[] training = ascii("training");
        pickle.write(new byte[] {'X', (byte) training.length, 0, 0, 0}); // BINUNICODE
        pickle.write(training);
        pickle.write(new byte[] {(byte) 0x88, 's', 'b', '.'}); // NEWTRUE, SETITEM, BUILD, STOP
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(zip)) {
            stored(z, "ops/data.pkl", pickle.toByteArray());
            stored(z, "ops/code/__torch__.py", CODE.getBytes(StandardCharsets.UTF_8));
            stored(z, "ops/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            stored(z, "ops/version", ascii("3\n"));
        }
        return zip.toByteArray();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static void stored(ZipOutputStream z, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }
}
