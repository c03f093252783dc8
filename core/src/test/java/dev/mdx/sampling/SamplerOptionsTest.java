package dev.mdx.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import org.junit.jupiter.api.Test;

class SamplerOptionsTest {
    private static SamplerOptions parse(String json) {
        return SamplerOptions.parse(JsonConfig.parse("scheduler_config.json", json));
    }

    /**
     * LCM takes its grid from original_inference_steps of the training timesteps: more than there are is the
     * file's error, named when it is read, not a failed step count at the first request.
     */
    @Test
    void originalInferenceStepsMustFitTheTrainingTimesteps() {
        assertEquals(100, parse("{\"num_train_timesteps\": 100, \"original_inference_steps\": 100}")
                .originalInferenceSteps());
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> parse("{\"num_train_timesteps\": 100, \"original_inference_steps\": 200}"));
        assertTrue(e.getMessage().startsWith("scheduler_config.json: field 'original_inference_steps' must be in"
                + " [1, num_train_timesteps = 100], got 200"), e.getMessage());
        assertThrows(ModelFormatException.class, () -> parse("{\"original_inference_steps\": 1001}"));
    }
}
