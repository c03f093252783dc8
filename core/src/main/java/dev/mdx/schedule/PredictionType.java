package dev.mdx.schedule;

/** What the denoiser predicts: diffusers' {@code prediction_type}. */
public enum PredictionType implements JsonNamed {
    /** The added noise eps. */
    EPSILON("epsilon"),
    /** v = sqrt(a) eps - sqrt(1-a) x0 (Salimans and Ho, progressive distillation). */
    V_PREDICTION("v_prediction"),
    /** The clean sample x0 itself. */
    SAMPLE("sample");

    private final String jsonName;

    PredictionType(String jsonName) {
        this.jsonName = jsonName;
    }

    @Override
    public String jsonName() {
        return jsonName;
    }
}
