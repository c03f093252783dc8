package dev.mdx.train;

import dev.mdx.train.classifier.ClassifierTraining;
import dev.mdx.train.clip.ClipTraining;
import dev.mdx.train.unet.DistillTraining;
import dev.mdx.train.unet.AdapterTraining;
import dev.mdx.train.unet.LoraTraining;
import dev.mdx.train.unet.UNetTraining;
import dev.mdx.train.unet.UfoGenTraining;
import dev.mdx.train.vae.VaeStageConfig;
import dev.mdx.train.vae.VaeTraining;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Every training stage the CLI offers, by name. */
public final class TrainingStages {
    public static final List<TrainingStage> ALL = List.of(
            TrainingStage.of("clip", "mdx's small CLIP: BPE tokenizer, image and text towers, contrastive loss",
                    (config, out, resume, log) -> {
                        ClipTraining.Result r = new ClipTraining(log).train(config, out, resume);
                        return new TrainingStage.Outcome(r.step(), r.stopped(), r.lastLoss());
                    }),
            TrainingStage.of("vae", "an AutoencoderKL (config stage \"vae\") or a light decoder against its frozen "
                    + "encoder (stage \"light_decoder\"); exports OUT/vae with the measured scaling factor",
                    (config, out, resume, log) -> {
                        VaeTraining.Report r = VaeTraining.trainAndExport(VaeStageConfig.read(config), out, resume, log);
                        return new TrainingStage.Outcome(r.steps(), false, r.lastLoss());
                    }),
            trainerStage("unet", "the text-conditioned denoiser on cached VAE latents (base model)",
                    UNetTraining::run),
            trainerStage("distill", "CFG-aware step distillation of a teacher pipeline into a student for "
                    + "distill.student_steps DDIM steps (SnapFusion); exports OUT/pipeline", DistillTraining::run),
            trainerStage("ufogen", "UFOGen one-step fine-tuning of a base pipeline (generator + UNet-encoder "
                    + "discriminator, both from the base UNet); exports OUT/pipeline with the UFOGen scheduler",
                    UfoGenTraining::run),
            trainerStage("lora", "a LoRA on a frozen base pipeline (attention q/k/v/kv/out and feed-forward by "
                    + "default); exports OUT/lora.safetensors in kohya's format", LoraTraining::run),
            trainerStage("adapter", "a control adapter (canny edges or a silhouette mask) on a frozen base pipeline;"
                    + " exports OUT/adapter.safetensors for MODEL/adapters/", AdapterTraining::run),
            trainerStage("classifier", "a small CNN image classifier (Fashion-MNIST) for scoring generated "
                    + "images; exports OUT/classifier and OUT/report.json (test accuracy)", ClassifierTraining::run));

    private TrainingStages() {}

    /** A stage that runs the shared {@link Trainer} and reports its result. */
    private static TrainingStage trainerStage(String name, String description, TrainerRun run) {
        return TrainingStage.of(name, description, (config, out, resume, log) -> {
            Trainer.Result r = run.run(config, out, resume, log);
            return new TrainingStage.Outcome(r.step(), r.stopped(), r.lastLoss());
        });
    }

    @FunctionalInterface
    private interface TrainerRun {
        Trainer.Result run(Path config, Path out, boolean resume, PrintStream log);
    }

    public static Optional<TrainingStage> find(String name) {
        return ALL.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public static String names() {
        return String.join(", ", ALL.stream().map(TrainingStage::name).toList());
    }
}
