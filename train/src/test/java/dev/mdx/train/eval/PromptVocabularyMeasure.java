package dev.mdx.train.eval;

import ai.djl.ndarray.NDManager;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.StateDicts;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.StepCallback;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.train.classifier.ImageClassifier;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.train.clip.ClipModel;
import dev.mdx.train.clip.ClipScorer;
import dev.mdx.train.clip.ClipStageConfig;
import dev.mdx.train.clip.ClipTraining;
import dev.mdx.train.clip.Retrieval;
import dev.mdx.train.data.DataOrder;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.FashionCaptions;
import dev.mdx.train.data.HeldOutPrompt;
import dev.mdx.train.data.HeldOutPrompts;
import dev.mdx.train.data.ImageDataset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures how well prompts users type are followed (docs/TRAINING.md, "Prompts users type"):
 * <ul>
 * <li>{@code clip CLIP_DIR DATASET IMAGES PROTOTYPES}: {@link PromptVocabularyEvaluation} on the set's held-out
 *     paraphrase list: the CLIP's retrieval ceiling on real images and its prompt accuracy, canonical vs paraphrased;
 * <li>{@code checkpoint RUN STEP_DIR DATASET IMAGES PROTOTYPES}: the same for the EMA weights of a checkpoint of an
 *     unfinished {@code mdx train clip} run (its config and tokenizer from RUN);
 * <li>{@code generate MODEL CLASSIFIER DATASET SEEDS STEPS PER_CLASS}: Fashion-MNIST images generated (DDIM, CFG 7.5,
 *     seeds 1000...) for the canonical prompts, the issue's words ("a photo of a trouser", "pants", ...) and
 *     PER_CLASS held-out paraphrases per class (every k-th of the list), and the share the classifier puts in the
 *     prompted class;
 * <li>{@code generate-labels MODEL CLIP_DIR DATASET ITEMS STEPS}: for the held-in items {@code mdx eval} samples,
 *     one image (seed 1000 + i, DDIM, CFG 7.5) of the item's canonical caption and one of a held-out paraphrase of
 *     its label (of its style-compatible ones, the one at index k + 1 modulo their count, k the number of items kept
 *     before it; items without one are skipped), each scored by the CLIP's label retrieval among
 *     all labels, as {@code mdx eval} scores generated images: the emoji counterpart of {@code generate}.
 * </ul>
 * A measurement program, not a test.
 */
public final class PromptVocabularyMeasure {
    /** The words of issue 17 that the v1 captions never used, with their class. */
    static final Map<String, Integer> ISSUE_WORDS = new LinkedHashMap<>();

    static {
        ISSUE_WORDS.put("a photo of a trouser", 1);
        ISSUE_WORDS.put("a photo of pants", 1);
        ISSUE_WORDS.put("jeans", 1);
        ISSUE_WORDS.put("a photo of a pair of trainers", 7);
        ISSUE_WORDS.put("a running shoe", 7);
        ISSUE_WORDS.put("a photo of a purse", 8);
        ISSUE_WORDS.put("a jumper", 2);
        ISSUE_WORDS.put("a tee", 0);
    }

    private PromptVocabularyMeasure() {}

    private static void generateLabels(Path model, Path clipDir, Path dataset, int count, int steps) {
        ImageDataset data = ImageDataset.open(dataset);
        LabelSet labels = LabelSet.of(data);
        Map<String, List<HeldOutPrompt>> byLabel =
                PromptVocabularyEvaluation.groupByLabel(HeldOutPrompts.read(dataset));
        int[] items = DataOrder.sample(data.indices(DatasetItem.TRAIN), count, Evaluation.PROMPT_ORDER_SEED);
        List<String> canonical = new ArrayList<>();
        List<String> paraphrased = new ArrayList<>();
        List<Integer> truth = new ArrayList<>();
        for (int i : items) {
            DatasetItem it = data.item(i);
            List<HeldOutPrompt> own = PromptVocabularyEvaluation.paraphrasesOf(it, byLabel);
            if (own.isEmpty()) {
                continue;
            }
            canonical.add(it.caption());
            paraphrased.add(own.get(canonical.size() % own.size()).prompt());
            truth.add(labels.indexOf(it.label()));
        }
        int[] truthIdx = truth.stream().mapToInt(Integer::intValue).toArray();
        try (NDManager m = NDManager.newBaseManager();
                TextToImagePipeline p = TextToImagePipeline.load(model)) {
            ClipScorer scorer = ClipScorer.load(clipDir, m, 64);
            float[][] labelEmbeds = labels.embed(scorer, LabelSet.LabelText.CAPTIONS);
            for (var group : List.of(Map.entry("canonical", canonical), Map.entry("held-out paraphrases",
                    paraphrased))) {
                List<RgbImage> images = new ArrayList<>();
                for (int i = 0; i < group.getValue().size(); i++) {
                    p.generate(p.plan(p.newRequest().prompt(group.getValue().get(i)).steps(steps).seed(1000 + i)
                            .useStudent(false).build()), StepCallback.NONE, (k, image, used) -> images.add(image));
                }
                float[][] embeds = scorer.imageEmbeddings((scope, from, to) -> LoraTransferMeasure.rgb(scope, images,
                        from, to), images.size());
                Retrieval.Accuracy acc = LabelSet.accuracy(embeds, labelEmbeds, truthIdx);
                System.out.printf(Locale.ROOT, "%s: %d prompts, label top-1 %.3f top-5 %.3f%n", group.getKey(),
                        images.size(), acc.top1(), acc.top5());
            }
            for (int i = 0; i < Math.min(12, paraphrased.size()); i++) {
                System.out.printf("  \"%s\" <-> \"%s\"%n", canonical.get(i), paraphrased.get(i));
            }
        }
    }

    /** A scorer on a checkpoint's EMA weights, built as the run built its model. */
    private static ClipScorer checkpointScorer(Path run, Path step, ImageDataset data, NDManager m) {
        ClipStageConfig stage = ClipStageConfig.from(JsonConfig.read(run.resolve("training_config.json")));
        ClipTokenizer tokenizer = ClipTokenizer.load(run.resolve(ClipTraining.TOKENIZER_DIR));
        ClipModel model = new ClipModel(stage.modelConfig(tokenizer.vocabSize(), data.height(), data.channels()));
        StateDicts.load(model, step.resolve("ema.safetensors"), m);
        return new ClipScorer(model, tokenizer, m, 64);
    }

    public static void main(String[] args) {
        if (args[0].equals("generate-labels")) {
            generateLabels(Path.of(args[1]), Path.of(args[2]), Path.of(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]));
            return;
        }
        boolean clip = args[0].equals("clip") || args[0].equals("checkpoint");
        int shift = args[0].equals("checkpoint") ? 1 : 0;
        Path dataset = Path.of(args[clip ? 2 + shift : 3]);
        ImageDataset data = ImageDataset.open(dataset);
        List<HeldOutPrompt> paraphrases = HeldOutPrompts.read(dataset);
        try (NDManager m = NDManager.newBaseManager()) {
            if (clip) {
                ClipScorer scorer = shift == 0 ? ClipScorer.load(Path.of(args[1]), m, 64)
                        : checkpointScorer(Path.of(args[1]), Path.of(args[2]), data, m);
                PromptVocabularyEvaluation.Report r = PromptVocabularyEvaluation.run(scorer, data, paraphrases,
                        Integer.parseInt(args[3 + shift]), Integer.parseInt(args[4 + shift]));
                System.out.printf(Locale.ROOT, "real held-in  image->label top-1 %.3f top-5 %.3f (%d images)%n",
                        r.realHeldIn().top1(), r.realHeldIn().top5(), r.realHeldIn().queries());
                if (r.realHeldOut() != null) {
                    System.out.printf(Locale.ROOT, "real held-out image->label top-1 %.3f top-5 %.3f (%d images)%n",
                            r.realHeldOut().top1(), r.realHeldOut().top5(), r.realHeldOut().queries());
                }
                System.out.printf(Locale.ROOT, "prompt->label among %d image prototypes (%d train images):%n",
                        r.prototypeLabels(), r.prototypeImages());
                System.out.printf(Locale.ROOT, "  canonical   top-1 %.3f top-5 %.3f (%d prompts)%n",
                        r.canonical().top1(), r.canonical().top5(), r.canonical().queries());
                System.out.printf(Locale.ROOT, "  paraphrases top-1 %.3f top-5 %.3f (%d prompts)%n",
                        r.paraphrases().top1(), r.paraphrases().top5(), r.paraphrases().queries());
                if (r.paraphrasesByLabel().size() <= 20) {
                    r.paraphrasesByLabel().forEach(x -> System.out.printf(Locale.ROOT, "  paraphrases of %s: %d/%d%n",
                            x.label(), x.hits(), x.prompts()));
                }
                r.missed().forEach(x -> System.out.println("  missed: \"" + x.prompt() + "\" (" + x.label()
                        + ") -> " + x.nearest()));
                return;
            }
            ImageClassifier classifier = ImageClassifier.load(Path.of(args[2]), m);
            int seeds = Integer.parseInt(args[4]);
            int steps = Integer.parseInt(args[5]);
            int perClass = Integer.parseInt(args[6]);
            Map<String, Integer> canonical = new LinkedHashMap<>();
            for (int c = 0; c < FashionCaptions.CLASS_NAMES.size(); c++) {
                canonical.put(FashionCaptions.captions(c).get(0), c);
            }
            Map<String, Integer> held = new LinkedHashMap<>();
            for (int c = 0; c < FashionCaptions.CLASS_NAMES.size(); c++) {
                int cls = c;
                List<HeldOutPrompt> of = paraphrases.stream().filter(p -> p.classId() == cls).toList();
                for (int k = 0; k < perClass && k < of.size(); k++) {
                    held.put(of.get(k * of.size() / perClass).prompt(), c);
                }
            }
            try (TextToImagePipeline p = TextToImagePipeline.load(Path.of(args[1]))) {
                for (var group : List.of(Map.entry("canonical", canonical), Map.entry("issue words", ISSUE_WORDS),
                        Map.entry("held-out paraphrases", held))) {
                    int hits = 0;
                    int total = 0;
                    for (var e : group.getValue().entrySet()) {
                        List<RgbImage> images = new ArrayList<>();
                        p.generate(p.plan(p.newRequest().prompt(e.getKey()).steps(steps).seed(1000).batchCount(seeds)
                                .useStudent(false).build()), StepCallback.NONE, (k, image, used) -> images.add(image));
                        int[] pred = classifier.predict((scope, from, to) -> LoraTransferMeasure.gray(scope, images,
                                from, to), seeds, 64, m);
                        long h = Arrays.stream(pred).filter(x -> x == e.getValue()).count();
                        hits += (int) h;
                        total += seeds;
                        if (!group.getKey().equals("held-out paraphrases") || h < seeds / 2.0) {
                            System.out.printf(Locale.ROOT, "  \"%s\" (%s): %d/%d%n", e.getKey(),
                                    FashionCaptions.CLASS_NAMES.get(e.getValue()), h, seeds);
                        }
                    }
                    System.out.printf(Locale.ROOT, "%s: %d prompts, class accuracy %.3f (%d/%d images)%n",
                            group.getKey(), group.getValue().size(), (double) hits / total, hits, total);
                }
            }
        }
    }
}
