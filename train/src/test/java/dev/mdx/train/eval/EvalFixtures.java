package dev.mdx.train.eval;

import ai.djl.ndarray.NDManager;
import dev.mdx.io.StateDicts;
import dev.mdx.testing.TestModels;
import dev.mdx.text.ClipActivation;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.train.classifier.ClassifierConfig;
import dev.mdx.train.classifier.ImageClassifier;
import dev.mdx.train.classifier.ShapesDataset;
import dev.mdx.train.clip.BpeTrainer;
import dev.mdx.train.clip.BpeVocabulary;
import dev.mdx.train.clip.ClipModel;
import dev.mdx.train.clip.ClipModelConfig;
import dev.mdx.train.clip.ClipTokenizerFiles;
import dev.mdx.train.clip.ClipVisionConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tiny random-weight inputs of {@code mdx eval} for tests: the shapes data set (16x16, gray or RGB), a CLIP folder
 * as {@code mdx train clip} writes it, a classifier folder, and the micro pipeline (16x16 RGB images).
 */
public final class EvalFixtures {
    private EvalFixtures() {}

    /** Four train and two test images of each of the three shapes. */
    public static Path dataset(Path dir, int channels, boolean holdoutKinds) {
        return ShapesDataset.write(dir, channels, 4, 2, 5, holdoutKinds);
    }

    public static Path pipeline(Path dir) {
        return TestModels.microPipeline(dir);
    }

    /** A CLIP folder (config.json, model.safetensors, tokenizer files) for 16x16 images of {@code channels}. */
    public static Path clip(Path dir, int channels) {
        List<String> texts = new ArrayList<>();
        for (String n : ShapesDataset.NAMES) {
            texts.add("a " + n);
            texts.add(n);
        }
        BpeVocabulary vocab = new BpeTrainer(530, 1).train(texts);
        ClipTokenizerFiles.write(dir, vocab, 16);
        int v = ClipTokenizer.load(dir).vocabSize();
        ClipTextConfig text = new ClipTextConfig(v, 32, 64, 1, 2, 16, ClipActivation.QUICK_GELU, 1e-5, v - 2, v - 1,
                v - 1, 32);
        ClipVisionConfig vision = new ClipVisionConfig(ShapesDataset.SIZE, 4, channels, 32, 64, 1, 2,
                ClipActivation.QUICK_GELU, 1e-5);
        try (NDManager m = NDManager.newBaseManager()) {
            ClipModel model = new ClipModel(new ClipModelConfig(text, vision, 32,
                    ClipModelConfig.DEFAULT_LOGIT_SCALE_INIT));
            model.initRandom(m, 21);
            model.save(dir);
        }
        return dir;
    }

    /** A random-weight classifier folder for the shapes (16x16 images of {@code channels}). */
    public static Path classifier(Path dir, int channels) {
        try (NDManager m = NDManager.newBaseManager()) {
            ImageClassifier model = new ImageClassifier(new ClassifierConfig(channels, ShapesDataset.SIZE,
                    new int[] {4, 8}, 8, ShapesDataset.NAMES));
            StateDicts.initRandom(model, m, 22);
            model.save(dir, true);
        }
        return dir;
    }
}
