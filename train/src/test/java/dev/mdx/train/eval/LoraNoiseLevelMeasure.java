package dev.mdx.train.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.lora.BoundLora;
import dev.mdx.lora.FusedWeights;
import dev.mdx.lora.LoraFile;
import dev.mdx.lora.LoraPart;
import dev.mdx.lora.LoraSet;
import dev.mdx.lora.LoraTargets;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.unet.UNet2DConditionModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where along the noise levels a LoRA changes a model's image: for N training images of the LoRA's style (their cached
 * latents and captions), noised to x_t with fixed noise, the clean image each model implies with and without the LoRA
 * (x0 from the epsilon of the base, from the v of a v-prediction student). Prints, per timestep, how far the LoRA
 * moves x0 (|dx0| / |x0|) and how much it lowers the x0 error against the true image.
 *
 * <p>{@code java -cp ... dev.mdx.train.eval.LoraNoiseLevelMeasure MODEL LORA LATENTS MANIFEST STYLE N [STUDENT_DIR]}:
 * LATENTS is a LoRA run's {@code latents.safetensors} (the items of STYLE in the train split, in manifest order).
 */
public final class LoraNoiseLevelMeasure {
    private static final int[] TIMESTEPS = {999, 900, 750, 500, 250, 100};

    private LoraNoiseLevelMeasure() {}

    public static void main(String[] args) throws IOException {
        Path model = Path.of(args[0]);
        Path lora = Path.of(args[1]);
        Path latentsFile = Path.of(args[2]);
        List<String> captions = captions(Path.of(args[3]), args[4]);
        int n = Integer.parseInt(args[5]);
        try (NDManager m = NDManager.newBaseManager()) {
            ClipTokenizer tok = ClipTokenizer.load(model.resolve("tokenizer"));
            ClipTextModel text = ClipTextModel.load(model.resolve("text_encoder"), m);
            NDArray x0;
            try (SafeTensorsFile st = SafeTensorsFile.open(latentsFile)) {
                x0 = st.load("latents", m).get("0:" + n);
            }
            int length = Math.min(tok.maxLength(), text.config().maxPositionEmbeddings());
            NDArray context = text.forward(ClipTokenizer.inputIds(captions.subList(0, n).stream()
                    .map(c -> tok.encode(c, length)).toList(), m)).lastHiddenState();
            m.getEngine().setRandomSeed(0);
            NDArray eps = m.randomNormal(x0.getShape());
            report("base (epsilon)", model.resolve("unet"), model.resolve("scheduler/scheduler_config.json"), lora,
                    x0, eps, context, TIMESTEPS, m);
            if (args.length > 6) {
                Path student = model.resolve(args[6]);
                report("student " + args[6], student.resolve("unet"),
                        student.resolve("scheduler/scheduler_config.json"), lora, x0, eps, context, new int[] {999},
                        m);
            }
        }
    }

    private static void report(String name, Path unetDir, Path schedulerFile, Path lora, NDArray x0, NDArray eps,
            NDArray context, int[] timesteps, NDManager m) {
        ScheduleConfig config = ScheduleConfig.read(schedulerFile);
        NoiseSchedule schedule = NoiseSchedule.of(config);
        boolean v = config.predictionType() == dev.mdx.schedule.PredictionType.V_PREDICTION;
        UNet2DConditionModel unet = UNet2DConditionModel.load(unetDir, m);
        // the style LoRAs here are UNet-only
        BoundLora bound = BoundLora.bind(LoraFile.read(lora), Map.of(LoraPart.UNET, LoraTargets.of(LoraPart.UNET,
                unet)));
        System.out.printf(Locale.ROOT, "%s (%s prediction)%n  t     |x0|   |dx0|/|x0|  x0 MSE no LoRA  with LoRA  change%n",
                name, v ? "v" : "epsilon");
        for (int t : timesteps) {
            float a = schedule.alphaCumprod(t);
            float alpha = (float) Math.sqrt(a);
            float sigma = (float) Math.sqrt(1 - a);
            NDArray xt = x0.mul(alpha).add(eps.mul(sigma));
            NDArray ts = m.create(new float[] {t}).repeat(x0.getShape().get(0));
            NDArray plain = implied(unet.forward(xt, ts, context), xt, alpha, sigma, v);
            FusedWeights fused = FusedWeights.fuse(unet, LoraPart.UNET, List.of(new LoraSet.Entry(bound, 1.0, "lora")),
                    m);
            NDArray with;
            try {
                with = implied(unet.forward(xt, ts, context), xt, alpha, sigma, v);
            } finally {
                fused.restore();
            }
            double norm = norm(plain);
            double moved = norm(with.sub(plain));
            double msePlain = plain.sub(x0).square().mean().getFloat();
            double mseWith = with.sub(x0).square().mean().getFloat();
            System.out.printf(Locale.ROOT, "  %3d  %6.3f  %8.4f  %12.4f  %9.4f  %+6.1f%%%n", t, norm, moved / norm,
                    msePlain, mseWith, 100 * (mseWith - msePlain) / msePlain);
        }
    }

    /** The clean image a model output implies at x_t. */
    private static NDArray implied(NDArray out, NDArray xt, float alpha, float sigma, boolean v) {
        return v ? xt.mul(alpha).sub(out.mul(sigma)) : xt.sub(out.mul(sigma)).div(alpha);
    }

    private static double norm(NDArray a) {
        return Math.sqrt(a.square().mean().getFloat());
    }

    /** The first caption of each train item of the style, the style's name taken out as the LoRA config does. */
    private static List<String> captions(Path manifest, String style) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(manifest)) {
            JsonNode item = JsonConfig.MAPPER.readTree(line);
            if (item.path("split").asText().equals("train") && item.path("style").asText().equals(style)) {
                out.add(item.path("captions").get(0).asText().replaceAll(", " + style + " style$", ""));
            }
        }
        return out;
    }
}
