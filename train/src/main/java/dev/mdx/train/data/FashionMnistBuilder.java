package dev.mdx.train.data;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * Builds the captioned Fashion-MNIST data set from the IDX files of Debian's {@code dataset-fashion-mnist}
 * package, keeping the official train (60,000) / test (10,000) split. Images are 28x28 gray, white garment on
 * black; they are padded with black to {@code size} (default 32), so a VAE that downsamples 4x gets an 8x8 latent
 * and the pixels stay exactly the originals.
 */
public final class FashionMnistBuilder {
    public static final Path DEFAULT_SOURCE = Path.of("/usr/share/datasets/fashion-mnist");
    public static final Path DEFAULT_DOC = Path.of("/usr/share/doc/dataset-fashion-mnist");
    static final String NAME = "fashion-mnist";
    static final int BUILDER_VERSION = 1;
    /** The side of the original images: the smallest size, as images are padded and never shrunk. */
    public static final int SOURCE_SIZE = 28;
    /** The largest image size a build pads to. */
    public static final int MAX_SIZE = 256;
    private static final String INSTALL_HINT = " (install the data: apt-get install dataset-fashion-mnist)";

    public record Options(Path outputDir, Path sourceDir, Path docDir, int size, boolean force, BuildProgress progress,
            CaptionSet captions) {
        public Options {
            if (captions == null) {
                throw new IllegalArgumentException("a caption set is needed");
            }
            if (size < SOURCE_SIZE || size > MAX_SIZE) {
                throw new IllegalArgumentException("image size must be in " + SOURCE_SIZE + ".." + MAX_SIZE
                        + " (28x28 images are padded, never shrunk), got " + size);
            }
        }

        /** Debian's install location, 32x32. */
        public static Options defaults(Path outputDir) {
            return new Options(outputDir, DEFAULT_SOURCE, DEFAULT_DOC, 32, false, BuildProgress.NONE, CaptionSet.V1);
        }

        public Options withSource(Path source, Path doc) {
            return new Options(outputDir, source, doc, size, force, progress, captions);
        }

        public Options withSize(int s) {
            return new Options(outputDir, sourceDir, docDir, s, force, progress, captions);
        }

        public Options withForce(boolean f) {
            return new Options(outputDir, sourceDir, docDir, size, f, progress, captions);
        }

        public Options withCaptions(CaptionSet c) {
            return new Options(outputDir, sourceDir, docDir, size, force, progress, c);
        }

        public Options withProgress(BuildProgress p) {
            return new Options(outputDir, sourceDir, docDir, size, force, p, captions);
        }
    }

    private FashionMnistBuilder() {}

    public static BuildReport build(Options options) {
        long start = System.nanoTime();
        if (!Files.isDirectory(options.sourceDir())) {
            throw new DatasetException("Fashion-MNIST folder " + options.sourceDir() + " does not exist" + INSTALL_HINT);
        }
        String[][] parts = {{DatasetItem.TRAIN, "train"}, {DatasetItem.TEST, "t10k"}};
        Path[][] files = new Path[parts.length][];
        for (int p = 0; p < parts.length; p++) {
            files[p] = new Path[] {
                    find(options.sourceDir(), parts[p][1] + "-images-idx3-ubyte"),
                    find(options.sourceDir(), parts[p][1] + "-labels-idx1-ubyte")};
        }
        ObjectNode fingerprint = fingerprint(options, files);
        Optional<BuildReport> cached = Builds.reuse(options.outputDir(), fingerprint, options.force(), start);
        if (cached.isPresent()) {
            return cached.get();
        }
        int size = options.size();
        int pad = (size - SOURCE_SIZE) / 2;
        ObjectNode stats = ImageDatasetWriter.MAPPER.createObjectNode();
        ObjectNode perClass = stats.putObject("classes");
        Set<String> trainCaptions = new HashSet<>();
        try (ImageDatasetWriter writer = new ImageDatasetWriter(options.outputDir(), NAME, size, size, 1)) {
            for (int p = 0; p < parts.length; p++) {
                String split = parts[p][0];
                IdxFile images = IdxFile.read(files[p][0]);
                IdxFile labels = IdxFile.read(files[p][1]);
                int n = check(images, labels, files[p]);
                int[] counts = new int[FashionCaptions.CLASS_NAMES.size()];
                byte[] padded = new byte[size * size];
                for (int i = 0; i < n; i++) {
                    int label = labels.data()[i] & 0xff;
                    for (int y = 0; y < SOURCE_SIZE; y++) {
                        System.arraycopy(images.data(), (i * SOURCE_SIZE + y) * SOURCE_SIZE, padded, (y + pad) * size + pad, SOURCE_SIZE);
                    }
                    String key = split + "/" + i;
                    List<String> captions = options.captions() == CaptionSet.V1 ? FashionCaptions.captions(label)
                            : FashionVocabulary.captions(label, key, options.captions());
                    if (split.equals(DatasetItem.TRAIN)) {
                        trainCaptions.addAll(captions);
                    }
                    writer.add(padded, new DatasetItem(0, split, FashionCaptions.CLASS_NAMES.get(label), label, null,
                            captions, key, null));
                    counts[label]++;
                    if (i % 5000 == 0 || i == n - 1) {
                        options.progress().update(split, i + 1, n);
                    }
                }
                ObjectNode c = perClass.putObject(split);
                for (int k = 0; k < counts.length; k++) {
                    c.put(FashionCaptions.CLASS_NAMES.get(k), counts[k]);
                }
            }
            if (options.captions() != CaptionSet.V1) {
                List<HeldOutPrompt> prompts = FashionVocabulary.heldOutPrompts();
                stats.put("heldOutPrompts", prompts.size());
                stats.put("distinctTrainCaptions", trainCaptions.size());
                HeldOutPrompts.write(options.outputDir(), prompts, trainCaptions);
            }
            stats.put("sourceSize", SOURCE_SIZE);
            stats.put("padding", pad);
            DatasetInfo info = writer.finish(fingerprint, stats);
            writeAttribution(options, fingerprint.path("debianVersion").asText("unknown"));
            return new BuildReport(options.outputDir(), info, false, (System.nanoTime() - start) / 1e9);
        }
    }

    private static int check(IdxFile images, IdxFile labels, Path[] files) {
        int[] d = images.dims();
        if (d.length != 3 || d[1] != SOURCE_SIZE || d[2] != SOURCE_SIZE) {
            throw new DatasetException(files[0] + ": shape " + Arrays.toString(d) + ", expected [N, 28, 28]");
        }
        if (labels.dims().length != 1 || labels.dims()[0] != d[0]) {
            throw new DatasetException(files[1] + ": shape " + Arrays.toString(labels.dims()) + ", expected [" + d[0]
                    + "] to match " + files[0].getFileName());
        }
        for (int i = 0; i < d[0]; i++) {
            int label = labels.data()[i] & 0xff;
            if (label >= FashionCaptions.CLASS_NAMES.size()) {
                throw new DatasetException(files[1] + ": label " + label + " at " + i + " is not in 0..9");
            }
        }
        return d[0];
    }

    private static Path find(Path dir, String name) {
        for (Path candidate : List.of(dir.resolve(name + ".gz"), dir.resolve(name))) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new DatasetException(dir + ": has neither " + name + ".gz nor " + name + INSTALL_HINT);
    }

    private static ObjectNode fingerprint(Options o, Path[][] files) {
        ObjectNode n = ImageDatasetWriter.MAPPER.createObjectNode();
        n.put("builder", NAME);
        n.put("builderVersion", BUILDER_VERSION);
        n.put("size", o.size());
        if (o.captions() != CaptionSet.V1) {
            n.put("captions", o.captions().id());   // absent for v1, so v1 builds keep their fingerprint
        }
        n.put("debianVersion", debianVersion(o.docDir()));
        ObjectNode sizes = n.putObject("sourceBytes");
        for (Path[] part : files) {
            for (Path f : part) {
                try {
                    sizes.put(f.getFileName().toString(), Files.size(f));
                } catch (IOException e) {
                    throw new DatasetException(f + ": cannot read (" + e.getMessage() + ")", e);
                }
            }
        }
        return n;
    }

    /** The package version from the first line of Debian's changelog, "dataset-fashion-mnist (VERSION) ...". */
    static String debianVersion(Path docDir) {
        if (docDir == null) {
            return "unknown";
        }
        Path changelog = docDir.resolve("changelog.Debian.gz");
        if (!Files.isRegularFile(changelog)) {
            return "unknown";
        }
        try (InputStream in = new GZIPInputStream(Files.newInputStream(changelog))) {
            String first = new String(in.readNBytes(512), StandardCharsets.UTF_8).lines().findFirst().orElse("");
            int open = first.indexOf('(');
            int close = first.indexOf(')', open + 1);
            return open >= 0 && close > open ? first.substring(open + 1, close) : "unknown";
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void writeAttribution(Options o, String debianVersion) {
        String copyright = "Copyright: 2017, Zalando SE";
        String license = "License: Expat";
        Path copyrightFile = o.docDir() == null ? null : o.docDir().resolve("copyright");
        if (copyrightFile != null && Files.isRegularFile(copyrightFile)) {
            try {
                List<String> lines = Files.readAllLines(copyrightFile, StandardCharsets.UTF_8);
                copyright = lines.stream().filter(l -> l.startsWith("Copyright:")).findFirst().orElse(copyright);
                license = lines.stream().filter(l -> l.startsWith("License:")).findFirst().orElse(license);
            } catch (IOException e) {
                // the defaults above are what Debian's copyright file says for the data
            }
        }
        String md = "# Fashion-MNIST: source and license\n\n"
                + "Images and labels are Fashion-MNIST by Zalando Research, read from Debian's package "
                + "`dataset-fashion-mnist` (version " + debianVersion + "). The 28x28 gray images are padded with "
                + "black to " + o.size() + "x" + o.size() + "; captions are generated from the class names.\n\n"
                + copyright.trim() + "  \n" + license.trim() + " (the MIT license)\n";
        AtomicFiles.writeBytes(o.outputDir().resolve("ATTRIBUTION.md"), md.getBytes(StandardCharsets.UTF_8));
    }
}
