package dev.mdx.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.testing.Golden;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The scheduler half of the end-to-end pipeline golden: the pipeline's scheduler_config.json gives DDIM with the
 * recorded timesteps, and stepping the recorded guided UNet outputs from the recorded initial latents reproduces
 * every recorded {@code stepK.latents} (diffusers re-derived them bit-exactly with a fresh scheduler).
 */
class PipelineSchedulerStepTest {
    @Test
    void ddimStepsReproduceThePipelineLatents() {
        Path root = Golden.root();
        JsonNode call = JsonConfig.read(root.resolve("pipeline/pipeline_golden.json")).root();
        JsonConfig schedulerJson = ScheduleConfig.readJson(root.resolve("scheduler/scheduler_config.json"));
        SamplerKind kind = SamplerKind.fromDiffusersClass(schedulerJson.getString("_class_name", ""))
                .orElseThrow(() -> new AssertionError("no sampler for the pipeline's scheduler"));
        SamplerOptions options = SamplerOptions.parse(schedulerJson).withEta(call.get("call").get("eta").asDouble());
        Sampler sampler = kind.create(ScheduleConfig.parse(schedulerJson), options);
        SamplingPlan plan = sampler.plan(call.get("call").get("num_inference_steps").asInt());

        JsonNode expectedT = call.get("timesteps");
        float[] t = new float[expectedT.size()];
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) expectedT.get(i).asDouble(); // integers for DDIM, fractions for Euler-type schedulers
        }
        assertArrayEquals(t, plan.timesteps(), "timesteps");

        Path io = root.resolve("pipeline/io.safetensors");
        try (SafeTensorsFile file = SafeTensorsFile.open(io); NDManager manager = NDManager.newBaseManager();
                SamplerState state = new SamplerState()) {
            NDArray latents = plan.initialSample(file.load("initial_latents", manager));
            for (int i = 0; i < plan.size(); i++) {
                NDArray noisePred = file.load("step" + i + ".noise_pred", manager);
                StepResult r = sampler.step(plan, i, noisePred, latents, null, state);
                String name = "step" + i + ".latents";
                Golden.assertClose(file.load(name, manager), r.prevSample(), Golden.tolerance(io, name, 1e-4), name);
                latents = r.prevSample();
            }
            assertEquals(plan.size(), state.stepsTaken());
        }
    }
}
