package dev.mdx.sampling;

/** float32 scalar math as PyTorch does it on 0-d tensors (each operation rounded to float). */
final class Scalars {
    private Scalars() {}

    static float sqrt(float x) {
        return (float) Math.sqrt(x);
    }

    static float log(float x) {
        return (float) Math.log(x);
    }

    static float exp(float x) {
        return (float) Math.exp(x);
    }
}
