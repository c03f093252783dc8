package dev.mdx.tensor;

import dev.mdx.MdxException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The number format of inference's matrix work. In {@link #BF16} convolutions, linear layers and softmax attention
 * take bfloat16 inputs and weights (oneDNN's AVX512-BF16 kernels, fp32 accumulation) and return fp32; everything
 * else (normalisations, activations, the sampler's arithmetic, the arrays between layers) stays fp32. Set per
 * thread, like the engine's thread count, so concurrent requests can differ; training ignores it.
 */
public enum Precision {
    FP32,
    BF16;

    private static final ThreadLocal<Precision> CURRENT = ThreadLocal.withInitial(() -> FP32);
    private static Boolean cpuHasBf16;

    /** "fp32" or "bf16" (any case) as a user gives it. */
    public static Precision parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new MdxException("unknown precision '" + name + "' (fp32, bf16)");
        }
    }

    /** The precision this thread's layers run in. */
    public static Precision current() {
        return CURRENT.get();
    }

    /** True when this thread runs bf16 and no autograd records. */
    public static boolean bf16Active() {
        return CURRENT.get() == BF16 && ScriptedOps.usable();
    }

    /**
     * Runs this thread's layers in {@code p} until the returned scope closes (then the previous precision again).
     * Use {@link #resolve} first: this does not check that the CPU supports it.
     */
    public static Scope use(Precision p) {
        Precision before = CURRENT.get();
        CURRENT.set(p);
        return () -> CURRENT.set(before);
    }

    /** Restores the precision a {@link #use} replaced. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * The precision to run for a request of {@code requested}: bf16 only where the CPU has bfloat16 arithmetic
     * (AVX512-BF16 or AMX) and the scripted ops loaded; otherwise fp32, with {@link #fallbackNote} saying why.
     */
    public static Precision resolve(Precision requested) {
        return fallbackNote(requested) == null ? requested : FP32;
    }

    /** Why {@code requested} cannot run here (a sentence for the user), or null when it can. */
    public static String fallbackNote(Precision requested) {
        if (requested == FP32) {
            return null;
        }
        if (!cpuHasBf16()) {
            return "this CPU has no bfloat16 arithmetic (AVX512-BF16 or AMX): running in fp32";
        }
        if (!ScriptedOps.loaded()) {
            return "the engine's bfloat16 operations could not be loaded (" + ScriptedOps.loadFailure()
                    + "): running in fp32";
        }
        return null;
    }

    /** The system property that sets {@link #machineDefault()} ("fp32" or "bf16"). */
    public static final String DEFAULT_PROPERTY = "mdx.precision";

    /**
     * The precision of a request that names none: bf16 where this machine runs it (its images are within 49-54 dB
     * PSNR of fp32's on the bundled models, docs/BENCHMARKS.md, and the UNet takes half the time), else fp32 without
     * a note (the user asked for nothing). {@value #DEFAULT_PROPERTY} = fp32 or bf16 overrides it, for example to
     * keep images bit-identical across machines with and without bfloat16 arithmetic.
     */
    public static Precision machineDefault() {
        String property = System.getProperty(DEFAULT_PROPERTY);
        if (property != null) {
            try {
                return resolve(parse(property));
            } catch (MdxException e) {
                throw new MdxException("-D" + DEFAULT_PROPERTY + ": " + e.getMessage());
            }
        }
        return resolve(BF16);
    }

    /** Whether /proc/cpuinfo lists avx512_bf16 or amx_bf16 (false where it cannot be read). */
    public static synchronized boolean cpuHasBf16() {
        if (cpuHasBf16 == null) {
            try {
                String info = Files.readString(Path.of("/proc/cpuinfo"));
                cpuHasBf16 = info.contains(" avx512_bf16") || info.contains(" amx_bf16");
            } catch (IOException | RuntimeException e) {
                cpuHasBf16 = false;
            }
        }
        return cpuHasBf16;
    }
}
