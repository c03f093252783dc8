package dev.mdx.sampling;

import dev.mdx.schedule.JsonNamed;

/** The second-order DPM-Solver++ update: diffusers' {@code solver_type}. */
public enum SolverType implements JsonNamed {
    MIDPOINT("midpoint"),
    HEUN("heun");

    private final String jsonName;

    SolverType(String jsonName) {
        this.jsonName = jsonName;
    }

    @Override
    public String jsonName() {
        return jsonName;
    }
}
