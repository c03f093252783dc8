package dev.mdx.train.unet;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.schedule.JsonNamed;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.ModelIndex;
import dev.mdx.nn.GuidanceEmbedding;
import dev.mdx.schedule.PredictionType;
import dev.mdx.train.Trainer;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;

/**
 * {@code mdx train distill}: SnapFusion-style CFG-aware step distillation of a trained pipeline (the
 * {@code teacher} folder) into a student taking {@code student_steps} DDIM steps (see
 * {@link DistillationLoss}). The student starts from the teacher's UNet; the export is a pipeline folder with a DDIM
 * scheduler in the student's prediction type and model_index.json keys {@value ModelIndex#STUDENT_STEPS_KEY} (the step count it was
 * distilled for, which {@code mdx generate} uses as its default) and {@value ModelIndex#NEEDS_CFG_KEY} (true: sample it with
 * classifier-free guidance as usual; false for a w-conditioned student, which takes the scale as an input).
 *
 * <p>Config: {@code trainer} and {@code data} as stage unet, {@code teacher}, and an optional {@code distill}
 * object: {@code student_steps} (8), {@code student_prediction_type} (v_prediction), {@code cfg_probability} (0.1),
 * {@code guidance_min} / {@code guidance_max} (2 / 14), {@code guidance} (1: the fixed w of the other steps),
 * {@code ori_loss_weight} (0.2), {@code ori_loss_dynamic} (true), {@code v_finetune_steps} (0), {@code w_conditioned}
 * (false) and {@code guidance_embedding_dim} (256, or the teacher's time_cond_proj_dim). A w-conditioned student gets
 * {@code time_cond_proj_dim} with a zero-initialised cond_proj ({@link WConditionedStudent}); cfg_probability and
 * guidance do not apply to it and are refused.
 */
public final class DistillTraining {
    /** Keys of the distill section that only the CFG-aware (not w-conditioned) student reads. */
    private static final List<String> CFG_ONLY = List.of("cfg_probability", "guidance");

    private DistillTraining() {}

    /**
     * The distill section as loss settings; the teacher's prediction type comes from its scheduler, and a teacher
     * UNet with {@code time_cond_proj_dim} (a w-conditioned student distilled again) fixes the embedding width.
     */
    static DistillationLoss.Settings settings(JsonConfig d, PredictionType teacher, UNetConfig teacherUnet) {
        FromPipeline.rejectUnknown(d, List.of("student_steps", "student_prediction_type", "cfg_probability",
                "guidance_min", "guidance_max", "guidance", "ori_loss_weight", "ori_loss_dynamic",
                "v_finetune_steps", "w_conditioned", "guidance_embedding_dim"));
        boolean wConditioned = d.getBool("w_conditioned", false);
        int dim = guidanceEmbeddingDim(d, wConditioned, teacherUnet.timeCondProjDim());
        try {
            return new DistillationLoss.Settings(d.getInt("student_steps", 8), teacher,
                    JsonNamed.parse(d, "student_prediction_type", PredictionType.class, PredictionType.V_PREDICTION),
                    d.getDouble("cfg_probability", 0.1), d.getDouble("guidance_min", 2.0),
                    d.getDouble("guidance_max", 14.0), d.getDouble("guidance", 1.0),
                    d.getDouble("ori_loss_weight", 0.2), d.getBool("ori_loss_dynamic", true),
                    d.getInt("v_finetune_steps", 0), wConditioned, dim);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(d.source() + ": " + e.getMessage());
        }
    }

    /**
     * The w embedding's width, after refusing the combinations that make no sense: a w-conditioned student with the
     * CFG-only keys or a too small width, the width without w_conditioned, and a teacher that takes guidance as an
     * input (whose width the student keeps) distilled without w_conditioned or to another width.
     */
    private static int guidanceEmbeddingDim(JsonConfig d, boolean wConditioned, Integer teacherDim) {
        String key = "guidance_embedding_dim";
        if (!wConditioned) {
            if (d.has(key)) {
                throw d.error(key, "applies only with \"w_conditioned\": true");
            }
            if (teacherDim != null) {
                throw d.error("w_conditioned", "must be true: the teacher takes the guidance scale as an input"
                        + " (time_cond_proj_dim " + teacherDim + "), so its student does too");
            }
            return 0;
        }
        for (String cfgKey : CFG_ONLY) {
            if (d.has(cfgKey)) {
                throw d.error(cfgKey, "does not apply with \"w_conditioned\": true (every example draws its own w"
                        + " from [guidance_min, guidance_max]); remove it");
            }
        }
        int dim = d.getInt(key, teacherDim != null ? teacherDim
                : DistillationLoss.Settings.DEFAULT_GUIDANCE_EMBEDDING_DIM);
        if (dim < GuidanceEmbedding.MIN_DIM) {
            throw d.error(key, "must be at least " + GuidanceEmbedding.MIN_DIM + " (the embedding divides by"
                    + " dim / 2 - 1), got " + dim);
        }
        if (teacherDim != null && dim != teacherDim) {
            throw d.error(key, "must be the teacher's time_cond_proj_dim " + teacherDim + ", got " + dim);
        }
        return dim;
    }

    /**
     * The teacher takes 2 * student_steps steps of its schedule: at most half its training timesteps, on a DDIM grid
     * its scheduler_config.json can plan (checked before any latent is encoded).
     */
    private static void checkStudentGrid(FromPipeline p, JsonConfig d, int studentSteps) {
        int n = p.schedule.numTrainTimesteps();
        if (studentSteps > n / 2) {
            throw d.error("student_steps", "must be at most " + n / 2 + " (the teacher takes twice as many steps of its"
                    + " " + n + " training timesteps), got " + studentSteps);
        }
        try {
            DistillationLoss.studentTimesteps(p.schedule, studentSteps);
        } catch (IllegalArgumentException e) {
            // the teacher's scheduler_config.json (steps_offset, betas) admits no such grid
            throw new ModelFormatException(p.folder.schedulerConfig() + ": cannot plan the student's " + studentSteps
                    + " DDIM steps: " + e.getMessage(), e);
        }
    }

    public static Trainer.Result run(Path configFile, Path outDir, boolean resume, PrintStream out) {
        FromPipeline p = FromPipeline.read(configFile, "teacher");
        JsonConfig d = p.section("distill");
        DistillationLoss.Settings settings = settings(d, p.schedule.predictionType(), p.unetConfig);
        checkStudentGrid(p, d, settings.studentSteps());
        checkTeacherSteps(p, settings.studentSteps());
        if (settings.studentPrediction() != settings.teacherPrediction() && settings.vFinetuneSteps() == 0) {
            out.println("note: the student predicts " + settings.studentPrediction().jsonName() + " but starts from a "
                    + settings.teacherPrediction().jsonName() + " teacher; consider v_finetune_steps");
        }
        try (NDManager weights = NDManager.newBaseManager()) {
            LatentBatchSource batches = p.batches(outDir, weights, out);
            TextConditioning text = p.text(weights);
            UNet2DConditionModel teacher = p.loadUnet(weights);
            UNet2DConditionModel student = settings.wConditioned() && !p.unetConfig.hasTimeCondProj()
                    ? WConditionedStudent.fromTeacher(teacher, settings.guidanceEmbeddingDim(), weights)
                    : p.loadUnet(weights);
            DistillationLoss loss = new DistillationLoss(student, teacher, text, p.schedule, settings);
            out.printf(Locale.ROOT, "distilling %s (%s) into a %d-step %s student at timesteps %s; %d examples%n",
                    p.folder.root(), settings.teacherPrediction().jsonName(), settings.studentSteps(),
                    settings.studentPrediction().jsonName(), loss.grid(), batches.size());
            if (settings.wConditioned()) {
                out.printf(Locale.ROOT, "w-conditioned: the student reads a %d-wide embedding of w - 1, w in [%s, %s]"
                        + " per example; one UNet pass per step at inference%n", settings.guidanceEmbeddingDim(),
                        settings.guidanceMin(), settings.guidanceMax());
            }
            Trainer.Result result;
            try (Trainer<LatentBatch> t = Trainer.builder(student, loss, batches, p.trainer, outDir)
                    .progress(out, false).build()) {
                result = t.run(resume);
                if (!result.stopped()) {
                    Path dir = outDir.resolve("pipeline");
                    p.export(dir, student.config(), UNetTraining.emaWeights(t, student, ""),
                            studentScheduler(p.schedulerJson, settings.studentPrediction()),
                            "trained by mdx train distill", index -> modelIndexKeys(index, settings, p));
                    out.println("exported " + dir + " (sample with: mdx generate -m " + dir + " --steps "
                            + settings.studentSteps() + ", ddim)");
                }
            }
            return result;
        }
    }

    /** The mdx keys of the student's model_index.json. */
    static void modelIndexKeys(ObjectNode index, DistillationLoss.Settings settings, FromPipeline p) {
        // a w-conditioned student reads the scale through time_cond_proj_dim: one pass per step, no CFG pair
        ModelIndex.putStudentKeys(index, settings.studentSteps(), !settings.wConditioned(),
                settings.wConditioned() ? new ModelIndex.GuidanceRange(settings.guidanceMin(), settings.guidanceMax())
                        : null, p.folder.root());
    }

    /** The teacher's schedule under DDIMScheduler (the sampler the student was distilled for), student's type. */
    static ObjectNode studentScheduler(ObjectNode teacher, PredictionType student) {
        ObjectNode s = teacher.deepCopy();
        s.put("_class_name", "DDIMScheduler");
        s.put("prediction_type", student.jsonName());
        return s;
    }

    /** A distilled teacher (with {@value ModelIndex#STUDENT_STEPS_KEY} = T) cannot take steps finer than T: 2 * student_steps <= T. */
    private static void checkTeacherSteps(FromPipeline p, int studentSteps) {
        OptionalInt steps = p.folder.index().studentSteps();
        if (steps.isPresent() && 2 * studentSteps > steps.getAsInt()) {
            throw new ModelFormatException(p.doc.source() + ": the teacher " + p.folder.root() + " was distilled for "
                    + steps.getAsInt() + " steps, so it cannot teach " + 2 * studentSteps + " half steps"
                    + " (student_steps " + studentSteps + "); use student_steps <= " + steps.getAsInt() / 2);
        }
    }
}
