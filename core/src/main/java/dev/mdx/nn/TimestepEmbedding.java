package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import dev.mdx.tensor.Ops;

/**
 * diffusers' {@code TimestepEmbedding}: {@code linear_1} -> SiLU -> {@code linear_2}, with diffusers' optional
 * {@code cond_proj} (cond_proj_dim): a bias-free Linear whose projection of a condition vector (LCM's guidance
 * embedding) is added to the input before {@code linear_1}.
 */
public final class TimestepEmbedding extends Module {
    private final Linear linear1;
    private final Linear condProj;
    private final Linear linear2;

    public TimestepEmbedding(int in, int dim) {
        this(in, dim, 0);
    }

    /** @param condProjDim width of the condition vector, or 0 for no {@code cond_proj} */
    public TimestepEmbedding(int in, int dim, int condProjDim) {
        if (condProjDim < 0) {
            throw new IllegalArgumentException("cond_proj_dim must be >= 0, got " + condProjDim);
        }
        // registration order is diffusers' (linear_1, cond_proj, linear_2), so state dicts list keys alike
        this.linear1 = child("linear_1", new Linear(in, dim, true));
        this.condProj = condProjDim > 0 ? child("cond_proj", new Linear(condProjDim, in, false)) : null;
        this.linear2 = child("linear_2", new Linear(dim, dim, true));
    }

    /** (B, in) -> (B, dim); only for an embedding without {@code cond_proj}. */
    public NDArray forward(NDArray x) {
        return forward(x, null);
    }

    /**
     * (B, in) and, when this embedding has {@code cond_proj}, the condition (B, cond_proj_dim) -> (B, dim).
     *
     * @throws IllegalArgumentException when the condition is missing but needed, or given but unused
     */
    public NDArray forward(NDArray x, NDArray condition) {
        if (condProj == null && condition != null) {
            throw new IllegalArgumentException("this time embedding has no cond_proj (time_cond_proj_dim is unset),"
                    + " so it takes no condition");
        }
        if (condProj != null && condition == null) {
            throw new IllegalArgumentException("this time embedding has cond_proj (time_cond_proj_dim "
                    + condProj.in() + "), so it needs a condition of shape (B, " + condProj.in() + ")");
        }
        NDArray h = condProj == null ? x : x.add(condProj.forward(condition));
        return linear2.forward(Ops.silu(linear1.forward(h)));
    }

    public int dim() {
        return linear2.out();
    }

    /** Width of the condition {@code cond_proj} reads, or 0 without it. */
    public int condProjDim() {
        return condProj == null ? 0 : condProj.in();
    }
}
