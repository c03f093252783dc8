package dev.mdx.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.sampling.SamplerOptions;
import dev.mdx.testing.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parsing of scheduler_config.json: values, class-dependent defaults left empty, clear rejections. */
class ScheduleConfigTest {
    /** Every field as the golden pipeline's file states it (or diffusers' default where the file has no key). */
    @Test
    void readsTheGoldenPipelineConfig() {
        Path file = Golden.root().resolve("scheduler/scheduler_config.json");
        JsonNode json = ScheduleConfig.readJson(file).root();
        ScheduleConfig c = ScheduleConfig.read(file);
        ScheduleConfig d = ScheduleConfig.defaults();
        assertEquals(json.path("num_train_timesteps").asInt(d.numTrainTimesteps()), c.numTrainTimesteps());
        assertEquals(json.path("beta_schedule").asText(d.betaSchedule().jsonName()), c.betaSchedule().jsonName());
        assertEquals(json.path("beta_start").asDouble(d.betaStart()), c.betaStart());
        assertEquals(json.path("beta_end").asDouble(d.betaEnd()), c.betaEnd());
        assertEquals(json.path("prediction_type").asText(d.predictionType().jsonName()),
                c.predictionType().jsonName());
        assertEquals(json.path("steps_offset").asInt(d.stepsOffset()), c.stepsOffset());
        assertEquals(optionalText(json, "timestep_spacing"), c.timestepSpacing().map(TimestepSpacing::jsonName));
        assertEquals(optionalBool(json, "set_alpha_to_one"), c.setAlphaToOne());
        assertEquals(optionalBool(json, "clip_sample"), c.clipSample());
        assertEquals(json.path("trained_betas").size(), c.trainedBetas().size());
    }

    private static Optional<String> optionalText(JsonNode json, String key) {
        return json.hasNonNull(key) ? Optional.of(json.get(key).asText()) : Optional.empty();
    }

    private static Optional<Boolean> optionalBool(JsonNode json, String key) {
        return json.hasNonNull(key) ? Optional.of(json.get(key).asBoolean()) : Optional.empty();
    }

    @Test
    void absentClassDependentKeysStayEmpty() {
        ScheduleConfig c = parse("{\"beta_schedule\": \"linear\"}");
        assertFalse(c.timestepSpacing().isPresent());
        assertFalse(c.clipSample().isPresent());
        assertFalse(c.setAlphaToOne().isPresent());
        assertEquals(TimestepSpacing.LINSPACE, c.spacingOr(TimestepSpacing.LINSPACE));
    }

    @Test
    void rejectsUnknownValuesNamingTheField() {
        assertRejected("{\"beta_schedule\": \"cosine\"}", "beta_schedule");
        assertRejected("{\"prediction_type\": \"x0\"}", "prediction_type");
        assertRejected("{\"timestep_spacing\": \"uniform\"}", "timestep_spacing");
        assertRejected("{\"thresholding\": true}", "thresholding");
        assertRejected("{\"trained_betas\": [0.1, 0.2]}", "trained_betas");
        assertRejected("{\"num_train_timesteps\": 1}", "num_train_timesteps");
        assertRejected("{\"steps_offset\": -1}", "steps_offset");
        assertRejected("{\"clip_sample\": \"yes\"}", "clip_sample");
    }

    /** Schedules that cannot denoise (diffusers accepts them and gives a black image) are refused up front. */
    @Test
    void rejectsSchedulesThatCannotDenoise() {
        for (String schedule : new String[] {"linear", "scaled_linear", "sigmoid"}) {
            String s = "\"beta_schedule\": \"" + schedule + "\", ";
            assertRejected("{" + s + "\"beta_start\": 0.012, \"beta_end\": 0.00085}", "beta_start");
            assertRejected("{" + s + "\"beta_start\": 0}", "beta_start");
            assertRejected("{" + s + "\"beta_start\": -0.001}", "beta_start");
            assertRejected("{" + s + "\"beta_end\": 1}", "beta_end");
            assertRejected("{" + s + "\"beta_end\": 1.5}", "beta_end");
        }
        assertRejected("{\"num_train_timesteps\": 0}", "num_train_timesteps");
        assertRejected("{\"num_train_timesteps\": -5}", "num_train_timesteps");
        assertRejected("{\"num_train_timesteps\": 1.5}", "num_train_timesteps");
        assertRejected("{\"num_train_timesteps\": 4294967298}", "num_train_timesteps");
        assertRejected("{\"num_train_timesteps\": 2, \"trained_betas\": [0.1, 0]}", "trained_betas");
        // equal ends are a constant schedule; the cosine schedule does not use the two at all
        assertEquals(0.01, parse("{\"beta_start\": 0.01, \"beta_end\": 0.01}").betaEnd());
        assertEquals(0.5, parse("{\"beta_schedule\": \"squaredcos_cap_v2\", \"beta_start\": 0.5, \"beta_end\": 0}")
                .betaStart());
    }

    @Test
    void nonFiniteBetasNameTheFileAndTheField(@TempDir Path dir) throws IOException {
        for (String field : new String[] {"beta_start", "beta_end"}) {
            for (String value : new String[] {"NaN", "Infinity", "-Infinity"}) {
                Path file = dir.resolve(field + value + ".json");
                Files.writeString(file, "{\"_class_name\": \"DDIMScheduler\", \"" + field + "\": " + value + "}");
                ModelFormatException e = assertThrows(ModelFormatException.class, () -> ScheduleConfig.read(file));
                assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("'" + field + "'"),
                        e.getMessage());
            }
        }
    }

    @Test
    void rejectsUnsupportedSolverSettingsNamingTheField() {
        assertOptionsRejected("{\"algorithm_type\": \"sde-dpmsolver++\"}", "algorithm_type");
        assertOptionsRejected("{\"solver_order\": 3}", "solver_order");
        assertOptionsRejected("{\"solver_type\": \"bh2\"}", "solver_type");
        assertOptionsRejected("{\"variance_type\": \"learned_range\"}", "variance_type");
        assertOptionsRejected("{\"interpolation_type\": \"log_linear\"}", "interpolation_type");
        assertOptionsRejected("{\"use_lu_lambdas\": true}", "use_lu_lambdas");
    }

    @Test
    void acceptsPythonsBareInfinity(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("scheduler_config.json");
        Files.writeString(file, "{\"_class_name\": \"DPMSolverMultistepScheduler\", \"lambda_min_clipped\": -Infinity,"
                + " \"trained_betas\": null, \"use_karras_sigmas\": true}");
        assertTrue(ScheduleConfig.read(file).useKarrasSigmas());
        assertEquals(Double.NEGATIVE_INFINITY, SamplerOptions.read(file).lambdaMinClipped());
    }

    @Test
    void trainedBetasOverrideTheSchedule() {
        NoiseSchedule s = NoiseSchedule.of(parse("{\"num_train_timesteps\": 4, \"trained_betas\": [0.1, 0.2, 0.3, 0.4]}"));
        assertEquals(0.9f * 0.8f * 0.7f, s.alphaCumprod(2), 1e-7);
    }

    private static ScheduleConfig parse(String json) {
        return ScheduleConfig.parse(JsonConfig.parse("scheduler_config.json", json));
    }

    private static void assertRejected(String json, String field) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> parse(json), json);
        assertTrue(e.getMessage().contains("'" + field + "'"), "message names " + field + ": " + e.getMessage());
    }

    private static void assertOptionsRejected(String json, String field) {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> SamplerOptions.parse(JsonConfig.parse("scheduler_config.json", json)), json);
        assertTrue(e.getMessage().contains("'" + field + "'"), "message names " + field + ": " + e.getMessage());
    }
}
