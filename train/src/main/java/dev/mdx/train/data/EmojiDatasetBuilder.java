package dev.mdx.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;

/**
 * Builds the captioned emoji data set: every emoji of emojibase (base and skin-tone variants) drawn by each
 * Iconify emoji set that has it, rendered to {@code size}x{@code size} RGB on white, captioned from emojibase's
 * label and tags plus the style. Sources are npm packages at pinned versions.
 */
public final class EmojiDatasetBuilder {
    /** One pinned package; {@code style} is the word captions use for an icon set. */
    public record Source(String style, String packageName, String version) {}

    public static final List<Source> DEFAULT_SETS = List.of(
            new Source("noto", "@iconify-json/noto", "1.2.9"),
            new Source("twemoji", "@iconify-json/twemoji", "1.2.5"),
            new Source("fluent", "@iconify-json/fluent-emoji-flat", "1.2.6"),
            new Source("openmoji", "@iconify-json/openmoji", "1.2.29"));
    public static final Source DEFAULT_EMOJIBASE = new Source("emojibase", "emojibase-data", "17.0.0");
    static final String EMOJIBASE_DATA = "en/data.json";
    /** Shortcode files read for caption set v2: emojibase's own and GitHub's (the ones chat users type). */
    static final List<String> EMOJIBASE_SHORTCODES = List.of("en/shortcodes/emojibase.json", "en/shortcodes/github.json");
    static final String NAME = "emoji";
    static final int BUILDER_VERSION = 1;
    private static final int CHUNK = 256;

    public record Options(Path outputDir, PackageSource packages, List<Source> sets, Source emojibase, int size,
            long seed, double heldOutEmojiFraction, double heldOutPairFraction, int threads, boolean force,
            BuildProgress progress, CaptionSet captions) {
        public Options {
            sets = List.copyOf(sets);
            if (captions == null) {
                throw new IllegalArgumentException("a caption set is needed");
            }
            if (captions == CaptionSet.V3) {
                throw new DatasetException("caption set v3 exists for Fashion-MNIST only; use v2 for emoji");
            }
            if (size < 8 || size > 1024) {
                throw new IllegalArgumentException("image size must be in 8..1024, got " + size);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            }
            if (sets.isEmpty()) {
                throw new IllegalArgumentException("at least one icon set is needed");
            }
        }

        /** 64x64, seed 0, 5% of emoji and 3% of emoji-style pairs held out, all cores, pinned packages via npm. */
        public static Options defaults(Path outputDir, Path packageCache) {
            return new Options(outputDir, new NpmPackSource(packageCache), DEFAULT_SETS, DEFAULT_EMOJIBASE, 64, 0L,
                    0.05, 0.03, Runtime.getRuntime().availableProcessors(), false, BuildProgress.NONE, CaptionSet.V1);
        }

        public Options withPackages(PackageSource p) {
            return new Options(outputDir, p, sets, emojibase, size, seed, heldOutEmojiFraction, heldOutPairFraction, threads, force, progress, captions);
        }

        public Options withSets(List<Source> s, Source base) {
            return new Options(outputDir, packages, s, base, size, seed, heldOutEmojiFraction, heldOutPairFraction, threads, force, progress, captions);
        }

        public Options withSize(int s) {
            return new Options(outputDir, packages, sets, emojibase, s, seed, heldOutEmojiFraction, heldOutPairFraction, threads, force, progress, captions);
        }

        public Options withSplit(long s, double emojiFraction, double pairFraction) {
            return new Options(outputDir, packages, sets, emojibase, size, s, emojiFraction, pairFraction, threads, force, progress, captions);
        }

        public Options withThreads(int t) {
            return new Options(outputDir, packages, sets, emojibase, size, seed, heldOutEmojiFraction, heldOutPairFraction, t, force, progress, captions);
        }

        public Options withForce(boolean f) {
            return new Options(outputDir, packages, sets, emojibase, size, seed, heldOutEmojiFraction, heldOutPairFraction, threads, f, progress, captions);
        }

        public Options withCaptions(CaptionSet c) {
            return new Options(outputDir, packages, sets, emojibase, size, seed, heldOutEmojiFraction, heldOutPairFraction, threads, force, progress, c);
        }

        public Options withProgress(BuildProgress p) {
            return new Options(outputDir, packages, sets, emojibase, size, seed, heldOutEmojiFraction, heldOutPairFraction, threads, force, p, captions);
        }
    }

    private record Job(EmojiEntry emoji, int classId, Source source, IconifySet set, String iconName) {}

    private record Rendered(byte[] pixels, String error) {}

    private EmojiDatasetBuilder() {}

    public static BuildReport build(Options options) {
        long start = System.nanoTime();
        ObjectNode fingerprint = fingerprint(options);
        Optional<BuildReport> cached = Builds.reuse(options.outputDir(), fingerprint, options.force(), start);
        if (cached.isPresent()) {
            return cached.get();
        }
        BuildProgress progress = options.progress();
        progress.update("fetch", 0, options.sets().size() + 1);
        Path emojibaseTgz = options.packages().fetch(options.emojibase().packageName(), options.emojibase().version());
        Map<String, byte[]> emojibaseFiles = TgzArchive.read(emojibaseTgz,
                n -> n.equals(EMOJIBASE_DATA) || n.equals("package.json") || n.equals("LICENSE")
                        || EMOJIBASE_SHORTCODES.contains(n));
        List<EmojiEntry> emoji = Emojibase.parse(emojibaseTgz.getFileName() + ":" + EMOJIBASE_DATA,
                TgzArchive.require(emojibaseFiles, EMOJIBASE_DATA, emojibaseTgz));
        Map<String, List<String>> shortcodes = new HashMap<>();
        if (options.captions() == CaptionSet.V2) {
            for (String file : EMOJIBASE_SHORTCODES) {
                Emojibase.parseShortcodes(emojibaseTgz.getFileName() + ":" + file,
                        TgzArchive.require(emojibaseFiles, file, emojibaseTgz))
                        .forEach((hex, codes) -> shortcodes.computeIfAbsent(hex, k -> new ArrayList<>()).addAll(codes));
            }
        }
        List<IconifySet> sets = new ArrayList<>();
        for (Source s : options.sets()) {
            progress.update("fetch", sets.size() + 1, options.sets().size() + 1);
            sets.add(IconifySet.read(options.packages().fetch(s.packageName(), s.version())));
        }

        HoldoutSplit split = new HoldoutSplit(options.seed(), options.heldOutEmojiFraction(), options.heldOutPairFraction());
        Map<String, int[]> matchCounts = new LinkedHashMap<>();
        List<Job> jobs = plan(emoji, options.sets(), sets, matchCounts);

        ObjectNode stats = ImageDatasetWriter.MAPPER.createObjectNode();
        ObjectNode styleStats = stats.putObject("styles");
        Map<String, int[]> written = new HashMap<>();
        int[] heldOutItems = new int[HoldoutSplit.Holdout.values().length];
        List<String> problems = new ArrayList<>();
        int size = options.size();
        Set<String> trainCaptions = new HashSet<>();
        try (ImageDatasetWriter writer = new ImageDatasetWriter(options.outputDir(), NAME, size, size, 3)) {
            ForkJoinPool pool = new ForkJoinPool(options.threads());
            try {
                for (int from = 0; from < jobs.size(); from += CHUNK) {
                    List<Job> chunk = jobs.subList(from, Math.min(jobs.size(), from + CHUNK));
                    List<Rendered> images = pool.submit(() -> chunk.parallelStream().map(j -> render(j, size)).toList()).get();
                    for (int i = 0; i < chunk.size(); i++) {
                        Job job = chunk.get(i);
                        Rendered r = images.get(i);
                        int[] counts = written.computeIfAbsent(job.source().style(), k -> new int[3]);
                        if (r.error() != null) {
                            counts[2]++;
                            problems.add(job.source().style() + " " + job.iconName() + ": " + r.error());
                            continue;
                        }
                        if (SvgRasterizer.isBlank(r.pixels())) {
                            counts[1]++;
                            problems.add(job.source().style() + " " + job.iconName() + ": rendered blank");
                            continue;
                        }
                        counts[0]++;
                        String style = job.source().style();
                        HoldoutSplit.Holdout holdout = split.holdout(job.emoji().baseHexcode(), style);
                        heldOutItems[holdout.ordinal()]++;
                        List<String> captions = options.captions() == CaptionSet.V2
                                ? EmojiVocabulary.captions(job.emoji(), style,
                                        shortcodes.getOrDefault(job.emoji().baseHexcode(), List.of()))
                                : EmojiCaptions.captions(job.emoji(), style);
                        if (holdout == HoldoutSplit.Holdout.NONE) {
                            trainCaptions.addAll(captions);
                        }
                        writer.add(r.pixels(), new DatasetItem(0,
                                holdout == HoldoutSplit.Holdout.NONE ? DatasetItem.TRAIN : DatasetItem.TEST,
                                job.emoji().label(), job.classId(), style, captions,
                                IconifySet.normalizeHexcode(job.emoji().hexcode()) + "/" + style, holdout.manifestName()));
                    }
                    progress.update("render", Math.min(jobs.size(), from + CHUNK), jobs.size());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DatasetException("emoji build interrupted", e);
            } catch (ExecutionException e) {
                throw new DatasetException("emoji rendering failed: " + e.getCause(), e.getCause());
            } finally {
                pool.shutdown();
            }

            long baseCount = emoji.stream().filter(e -> !e.isSkinToneVariant()).count();
            long heldOutBase = emoji.stream().filter(e -> !e.isSkinToneVariant())
                    .filter(e -> split.holdout(e.baseHexcode(), "") == HoldoutSplit.Holdout.EMOJI).count();
            stats.put("emojibaseEntries", emoji.size());
            stats.put("baseEmoji", baseCount);
            stats.put("heldOutBaseEmoji", heldOutBase);
            stats.put("testItemsOfHeldOutEmoji", heldOutItems[HoldoutSplit.Holdout.EMOJI.ordinal()]);
            stats.put("testItemsOfHeldOutPairs", heldOutItems[HoldoutSplit.Holdout.PAIR.ordinal()]);
            for (int s = 0; s < sets.size(); s++) {
                String style = options.sets().get(s).style();
                int[] m = matchCounts.get(style);
                int[] w = written.getOrDefault(style, new int[3]);
                ObjectNode n = styleStats.putObject(style);
                n.put("icons", sets.get(s).iconCount());
                n.put("matchedByCodepoints", m[0]);
                n.put("matchedByName", m[1]);
                n.put("unmatched", m[2]);
                n.put("matchRate", (m[0] + m[1]) / (double) emoji.size());
                n.put("written", w[0]);
                n.put("blank", w[1]);
                n.put("failed", w[2]);
            }
            if (options.captions() == CaptionSet.V2) {
                List<HeldOutPrompt> prompts = heldOutPrompts(jobs, trainCaptions);
                stats.put("heldOutPrompts", prompts.size());
                HeldOutPrompts.write(options.outputDir(), prompts, trainCaptions);
            }
            ArrayNode problemList = stats.putArray("problems");
            problems.stream().limit(100).forEach(problemList::add);
            DatasetInfo info = writer.finish(fingerprint, stats);
            writeAttribution(options, sets, emojibaseFiles, emojibaseTgz);
            return new BuildReport(options.outputDir(), info, false, (System.nanoTime() - start) / 1e9);
        }
    }

    /** Which icon draws each emoji in each style, in emojibase order then set order; counts matches per style. */
    private static List<Job> plan(List<EmojiEntry> emoji, List<Source> sources, List<IconifySet> sets,
            Map<String, int[]> matchCounts) {
        List<Job> jobs = new ArrayList<>();
        for (Source s : sources) {
            matchCounts.put(s.style(), new int[3]);
        }
        Map<String, Integer> classIds = new HashMap<>();
        for (EmojiEntry e : emoji) {
            int classId = classIds.computeIfAbsent(e.baseHexcode(), k -> classIds.size());
            for (int s = 0; s < sets.size(); s++) {
                int[] counts = matchCounts.get(sources.get(s).style());
                Optional<IconifySet.Match> match = sets.get(s).find(e);
                if (match.isEmpty()) {
                    counts[2]++;
                    continue;
                }
                counts[match.get().kind() == IconifySet.MatchKind.CODEPOINTS ? 0 : 1]++;
                jobs.add(new Job(e, classId, sources.get(s), sets.get(s), match.get().iconName()));
            }
        }
        return jobs;
    }

    /** Each emoji's held-out paraphrases in the styles that draw it, minus any that a training caption happens to be. */
    private static List<HeldOutPrompt> heldOutPrompts(List<Job> jobs, Set<String> trainCaptions) {
        Map<String, List<String>> styles = new LinkedHashMap<>();
        Map<String, Job> first = new LinkedHashMap<>();
        for (Job j : jobs) {
            styles.computeIfAbsent(j.emoji().hexcode(), k -> new ArrayList<>()).add(j.source().style());
            first.putIfAbsent(j.emoji().hexcode(), j);
        }
        List<HeldOutPrompt> out = new ArrayList<>();
        for (Job j : first.values()) {
            for (HeldOutPrompt p : EmojiVocabulary.heldOutPrompts(j.emoji(), j.classId(), styles.get(j.emoji().hexcode()))) {
                if (!trainCaptions.contains(p.prompt())) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    private static Rendered render(Job job, int size) {
        try {
            return new Rendered(SvgRasterizer.renderRgb(job.set().svg(job.iconName()), size), null);
        } catch (RuntimeException e) {
            return new Rendered(null, e.toString());
        }
    }

    static ObjectNode fingerprint(Options o) {
        ObjectNode n = ImageDatasetWriter.MAPPER.createObjectNode();
        n.put("builder", NAME);
        n.put("builderVersion", BUILDER_VERSION);
        n.put("size", o.size());
        n.put("seed", o.seed());
        n.put("heldOutEmojiFraction", o.heldOutEmojiFraction());
        n.put("heldOutPairFraction", o.heldOutPairFraction());
        if (o.captions() != CaptionSet.V1) {
            n.put("captions", o.captions().id());   // absent for v1, so v1 builds keep their fingerprint
        }
        ArrayNode packages = n.putArray("packages");
        for (Source s : o.sets()) {
            packages.addObject().put("style", s.style()).put("package", s.packageName()).put("version", s.version());
        }
        packages.addObject().put("style", o.emojibase().style()).put("package", o.emojibase().packageName())
                .put("version", o.emojibase().version());
        return n;
    }

    private static void writeAttribution(Options o, List<IconifySet> sets, Map<String, byte[]> emojibaseFiles, Path emojibaseTgz) {
        StringBuilder md = new StringBuilder();
        md.append("# Emoji data set: sources and licenses\n\n")
                .append("Images are the emoji sets below rendered by mdx (JSVG) from their SVG sources to ")
                .append(o.size()).append('x').append(o.size())
                .append(" RGB pixels, scaled to fit and composited on a white background. Captions are built from ")
                .append("emojibase's English labels and tags plus the style name.\n\n")
                .append("| style | set | npm package | author | license |\n|---|---|---|---|---|\n");
        for (int i = 0; i < sets.size(); i++) {
            IconifySet set = sets.get(i);
            Source s = o.sets().get(i);
            md.append("| ").append(s.style()).append(" | ").append(set.name()).append(" | `").append(s.packageName())
                    .append('@').append(set.version()).append("` | ").append(set.author()).append(" | ")
                    .append(set.license().title()).append(" (").append(set.license().spdx()).append(")")
                    .append(set.license().url().isEmpty() ? "" : ", " + set.license().url()).append(" |\n");
        }
        JsonNode pkg = Builds.json(emojibaseFiles.get("package.json"));
        md.append("\nCaptions: `").append(o.emojibase().packageName()).append('@').append(pkg.path("version").asText("?"))
                .append("`, license ").append(pkg.path("license").asText("unknown"));
        byte[] license = emojibaseFiles.get("LICENSE");
        if (license != null) {
            new String(license, StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("Copyright")).findFirst()
                    .ifPresent(c -> md.append(", ").append(c));
        }
        md.append(".\n\nEach manifest entry's `style` names the set its image comes from. The OpenMoji images are ")
                .append("shared under CC BY-SA 4.0 and the Twemoji images under CC BY 4.0: whoever redistributes them must keep ")
                .append("this attribution (and share OpenMoji images under the same license).\n");
        AtomicFiles.writeBytes(o.outputDir().resolve("ATTRIBUTION.md"), md.toString().getBytes(StandardCharsets.UTF_8));
    }
}
