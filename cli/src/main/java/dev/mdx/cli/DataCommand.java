package dev.mdx.cli;

import dev.mdx.train.data.BuildReport;
import dev.mdx.train.data.CaptionSet;
import dev.mdx.train.data.EmojiDatasetBuilder;
import dev.mdx.train.data.FashionMnistBuilder;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Builds the captioned training sets from package-registry sources. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Build captioned training data sets (see docs/DATA.md for prerequisites and licenses).",
        subcommands = {DataCommand.Emoji.class, DataCommand.Fashion.class})
public final class DataCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static void report(PrintWriter out, BuildReport r) {
        out.printf("%s %s: %d images of %dx%d in %s (%.1f s)%n", r.reused() ? "reused" : "built", r.info().name(),
                r.info().count(), r.info().width(), r.info().height(), r.dir(), r.seconds());
        out.println("stats: " + r.info().stats());
    }

    static CaptionSet captionSet(String s) {
        try {
            return CaptionSet.parse(s);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--captions: " + e.getMessage());
        }
    }

    @Command(name = "emoji", mixinStandardHelpOptions = true,
            description = {"Render the Noto, Twemoji, Fluent and OpenMoji emoji sets (npm packages at pinned "
                    + "versions, fetched with `npm pack`) with captions from emojibase.",
                "Needs npm on the PATH the first time; the package tarballs are cached."})
    static final class Emoji implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Where the set is written.")
        Path out;

        @Option(names = "--npm-cache", paramLabel = "DIR",
                description = "Where package tarballs are kept (default: OUT/../npm).")
        Path npmCache;

        @Option(names = "--size", defaultValue = "64", description = "Image size in pixels (default: ${DEFAULT-VALUE}).")
        int size;

        @Option(names = "--seed", defaultValue = "0", description = "Seed of the held-out split (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--threads", defaultValue = "0", description = "Render threads (0 = all cores).")
        int threads;

        @Option(names = "--captions", defaultValue = "v1", paramLabel = "v1|v2",
                description = "Caption set: v1 the original templates, v2 the words users type plus a held-out "
                        + "paraphrase list (docs/DATA.md; default: ${DEFAULT-VALUE}).")
        String captions;

        @Option(names = "--force", description = "Rebuild even when an identical build exists.")
        boolean force;

        @Override
        public void run() {
            if (size < 8 || size > 1024) {
                throw new UsageException("--size must be between 8 and 1024, got " + size);
            }
            Path cache = npmCache != null ? npmCache : out.toAbsolutePath().getParent().resolve("npm");
            BuildProgressLine progress = new BuildProgressLine(spec.commandLine().getErr());
            EmojiDatasetBuilder.Options o = EmojiDatasetBuilder.Options.defaults(out, cache)
                    .withSize(size).withForce(force).withProgress(progress::update).withCaptions(captionSet(captions));
            o = o.withSplit(seed, o.heldOutEmojiFraction(), o.heldOutPairFraction());
            if (threads > 0) {
                o = o.withThreads(threads);
            }
            report(spec.commandLine().getOut(), EmojiDatasetBuilder.build(o));
        }
    }

    @Command(name = "fashion", mixinStandardHelpOptions = true,
            description = {"Fashion-MNIST with captions from its class names, official train/test split.",
                "Prerequisite: apt-get install -y dataset-fashion-mnist"})
    static final class Fashion implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Where the set is written.")
        Path out;

        @Option(names = "--source", paramLabel = "DIR", description = "Folder of the IDX files (default: "
                + "/usr/share/datasets/fashion-mnist, where the Debian package puts them).")
        Path source;

        @Option(names = "--size", defaultValue = "32",
                description = "Image size: 32 pads the 28x28 originals, 28 keeps them (default: ${DEFAULT-VALUE}).")
        int size;

        @Option(names = "--captions", defaultValue = "v1", paramLabel = "v1|v2|v3",
                description = "Caption set: v1 the original templates, v2 the words users type plus a held-out "
                        + "paraphrase list, v3 v2's words in three times as many sentence frames (docs/DATA.md; "
                        + "default: ${DEFAULT-VALUE}).")
        String captions;

        @Option(names = "--force", description = "Rebuild even when an identical build exists.")
        boolean force;

        @Override
        public void run() {
            if (size < FashionMnistBuilder.SOURCE_SIZE || size > FashionMnistBuilder.MAX_SIZE) {
                throw new UsageException("--size must be between " + FashionMnistBuilder.SOURCE_SIZE + " and "
                        + FashionMnistBuilder.MAX_SIZE + " (28x28 images are padded, never shrunk), got " + size);
            }
            FashionMnistBuilder.Options o = FashionMnistBuilder.Options.defaults(out).withSize(size).withForce(force)
                    .withCaptions(captionSet(captions))
                    .withProgress(new BuildProgressLine(spec.commandLine().getErr())::update);
            if (source != null) {
                o = o.withSource(source, FashionMnistBuilder.DEFAULT_DOC);
            }
            report(spec.commandLine().getOut(), FashionMnistBuilder.build(o));
        }
    }
}
