package dev.mdx.train.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/** Small fake npm packages written by the tests, so no test needs npm or the network. */
final class Fixtures {
    private Fixtures() {}

    static Path tgz(Path file, Map<String, String> entries) throws IOException {
        try (OutputStream out = Files.newOutputStream(file);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(out))) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                byte[] bytes = e.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry entry = new TarArchiveEntry("package/" + e.getKey());
                entry.setSize(bytes.length);
                tar.putArchiveEntry(entry);
                tar.write(bytes);
                tar.closeArchiveEntry();
            }
        }
        return file;
    }

    static final String RED_SQUARE = "<rect width=\"16\" height=\"16\" fill=\"#ff0000\"/>";
    static final String BLUE_DOT = "<circle cx=\"8\" cy=\"8\" r=\"4\" fill=\"#0000ff\"/>";
    static final String GREEN_LEFT_HALF = "<rect width=\"8\" height=\"16\" fill=\"#00ff00\"/>";
    static final String BROWN_SQUARE = "<rect width=\"16\" height=\"16\" fill=\"#8b4513\"/>";

    /**
     * Set "alpha" draws fox (red square, by code point), waving hand (blue dot, with FE0F in its chars key) and its
     * medium tone (brown square, by code point); set "beta" draws fox only under its name (no chars entry) as an
     * alias that mirrors a left-half rectangle, and the light tone of waving hand.
     */
    static PackageSource packages(Path dir) throws IOException {
        Map<String, Path> files = new LinkedHashMap<>();
        files.put("@iconify-json/alpha", tgz(dir.resolve("alpha.tgz"), Map.of(
                "icons.json", "{\"prefix\":\"alpha\",\"width\":16,\"height\":16,\"icons\":{"
                        + "\"fox-face\":{\"body\":\"" + esc(RED_SQUARE) + "\"},"
                        + "\"hand-wave\":{\"body\":\"" + esc(BLUE_DOT) + "\"},"
                        + "\"hand-wave-tone3\":{\"body\":\"" + esc(BROWN_SQUARE) + "\"},"
                        + "\"unused\":{\"body\":\"" + esc(BLUE_DOT) + "\"}}}",
                "chars.json", "{\"1f98a\":\"fox-face\",\"1f44b-fe0f\":\"hand-wave\",\"1f44b-1f3fd\":\"hand-wave-tone3\"}",
                "info.json", "{\"name\":\"Alpha Emoji\",\"author\":{\"name\":\"Alpha Inc\"},"
                        + "\"license\":{\"title\":\"Apache 2.0\",\"spdx\":\"Apache-2.0\",\"url\":\"https://example.org/alpha\"}}",
                "package.json", "{\"name\":\"@iconify-json/alpha\",\"version\":\"1.0.0\",\"license\":\"Apache-2.0\"}")));
        files.put("@iconify-json/beta", tgz(dir.resolve("beta.tgz"), Map.of(
                "icons.json", "{\"prefix\":\"beta\",\"width\":16,\"height\":16,\"icons\":{"
                        + "\"left-half\":{\"body\":\"" + esc(GREEN_LEFT_HALF) + "\"},"
                        + "\"wave-light\":{\"body\":\"" + esc(BLUE_DOT) + "\"}},"
                        + "\"aliases\":{\"fox\":{\"parent\":\"left-half\",\"hFlip\":true}}}",
                "chars.json", "{\"1f44b-1f3fb\":\"wave-light\"}",
                "info.json", "{\"name\":\"Beta Emoji\",\"author\":{\"name\":\"Beta Team\"},"
                        + "\"license\":{\"title\":\"CC BY 4.0\",\"spdx\":\"CC-BY-4.0\",\"url\":\"https://example.org/beta\"}}",
                "package.json", "{\"name\":\"@iconify-json/beta\",\"version\":\"2.0.0\",\"license\":\"CC-BY-4.0\"}")));
        files.put("emojibase-data", tgz(dir.resolve("emojibase.tgz"), Map.of(
                "en/data.json", EMOJIBASE,
                "en/shortcodes/emojibase.json", "{\"1F98A\":\"fox_face\",\"1F44B\":[\"wave\",\"waving_hand\"]}",
                "en/shortcodes/github.json", "{\"1F98A\":\"fox_face\",\"1F44B-1F3FD\":\"wave_tone3\"}",
                "package.json", "{\"name\":\"emojibase-data\",\"version\":\"9.9.9\",\"license\":\"MIT\"}",
                "LICENSE", "MIT License\n\nCopyright (c) 2017 Someone\n")));
        return (name, version) -> {
            Path p = files.get(name);
            if (p == null) {
                throw new DatasetException("no fixture package " + name);
            }
            return p;
        };
    }

    static final String EMOJIBASE = "["
            + "{\"label\":\"regional indicator A\",\"hexcode\":\"1F1E6\",\"type\":1,\"version\":0},"
            + "{\"label\":\"fox\",\"hexcode\":\"1F98A\",\"tags\":[\"face\",\"fox\",\"animal\"],\"group\":3,\"order\":10},"
            + "{\"label\":\"waving hand\",\"hexcode\":\"1F44B\",\"tags\":[\"hello\",\"hand\",\"wave\",\"bye\",\"hi\"],"
            + "\"group\":1,\"order\":5,\"skins\":["
            + "{\"label\":\"waving hand: light skin tone\",\"hexcode\":\"1F44B-1F3FB\",\"tone\":1,\"order\":6},"
            + "{\"label\":\"waving hand: medium skin tone\",\"hexcode\":\"1F44B-1F3FD\",\"tone\":3,\"order\":8}]},"
            + "{\"label\":\"medium skin tone\",\"hexcode\":\"1F3FD\",\"group\":2,\"order\":900}"
            + "]";

    static EmojiDatasetBuilder.Options emojiOptions(Path out, Path dir) throws IOException {
        return EmojiDatasetBuilder.Options.defaults(out, dir.resolve("unused-cache"))
                .withPackages(packages(dir))
                .withSets(java.util.List.of(
                        new EmojiDatasetBuilder.Source("alpha", "@iconify-json/alpha", "1.0.0"),
                        new EmojiDatasetBuilder.Source("beta", "@iconify-json/beta", "2.0.0")),
                        new EmojiDatasetBuilder.Source("emojibase", "emojibase-data", "9.9.9"))
                .withSize(16)
                .withThreads(2)
                .withSplit(0, 0, 0);
    }

    private static String esc(String s) {
        return s.replace("\"", "\\\"");
    }
}
