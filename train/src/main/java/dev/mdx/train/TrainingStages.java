package dev.mdx.train;

import dev.mdx.train.unet.UNetTraining;
import java.util.List;
import java.util.Optional;

/** Every training stage the CLI offers, by name. */
public final class TrainingStages {
    public static final List<TrainingStage> ALL = List.of(
            TrainingStage.of("unet", "the text-conditioned denoiser on cached VAE latents (base model)",
                    UNetTraining::run));

    private TrainingStages() {}

    public static Optional<TrainingStage> find(String name) {
        return ALL.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public static String names() {
        return String.join(", ", ALL.stream().map(TrainingStage::name).toList());
    }
}
