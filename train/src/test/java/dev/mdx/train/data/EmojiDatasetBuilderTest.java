package dev.mdx.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmojiDatasetBuilderTest {
    @TempDir
    Path tmp;

    @Test
    void buildsCaptionedImagesFromFixturePackages() throws IOException {
        BuildReport report = EmojiDatasetBuilder.build(Fixtures.emojiOptions(tmp.resolve("out"), tmp));
        assertFalse(report.reused());
        ImageDataset data = ImageDataset.open(tmp.resolve("out"));
        // components and regional indicators are skipped; alpha draws 3 of the 4 emoji, beta 2
        List<String> keys = data.items().stream().map(DatasetItem::key).toList();
        assertEquals(List.of("1f98a/alpha", "1f98a/beta", "1f44b/alpha", "1f44b-1f3fb/beta", "1f44b-1f3fd/alpha"), keys);
        assertEquals("fox, alpha style", data.caption(0));
        assertEquals("waving hand: medium skin tone, alpha style", data.caption(4));
        assertEquals("waving hand: medium skin tone", data.label(4));
        assertEquals("alpha", data.item(4).style());
        assertEquals(data.item(2).classId(), data.item(3).classId(), "a skin tone shares its base emoji's class");
        assertEquals(16, data.width());
        assertEquals(3, data.channels());

        assertPixel(data, 0, 8, 8, 255, 0, 0);      // red square
        assertPixel(data, 1, 8, 2, 255, 255, 255);  // mirrored half: left side transparent, shows white
        assertPixel(data, 1, 8, 13, 0, 255, 0);     // ... right side green
        assertPixel(data, 2, 8, 8, 0, 0, 255);      // blue dot centre
        assertPixel(data, 2, 0, 0, 255, 255, 255);  // ... transparent corner on white
        assertPixel(data, 4, 8, 8, 0x8b, 0x45, 0x13);

        var styles = report.info().stats().path("styles");
        assertEquals(3, styles.path("alpha").path("matchedByCodepoints").asInt());
        assertEquals(1, styles.path("alpha").path("unmatched").asInt());
        assertEquals(1, styles.path("beta").path("matchedByName").asInt());
        assertEquals(1, styles.path("beta").path("matchedByCodepoints").asInt());
        assertEquals(2, report.info().stats().path("baseEmoji").asInt());

        String attribution = Files.readString(tmp.resolve("out/ATTRIBUTION.md"));
        assertTrue(attribution.contains("Apache 2.0 (Apache-2.0)"), attribution);
        assertTrue(attribution.contains("CC BY 4.0 (CC-BY-4.0)"), attribution);
        assertTrue(attribution.contains("`@iconify-json/beta@2.0.0`"), attribution);
        assertTrue(attribution.contains("Copyright (c) 2017 Someone"), attribution);
    }

    @Test
    void rebuildIsSkippedWhenUpToDateAndForcedRebuildIsIdentical() throws IOException {
        EmojiDatasetBuilder.Options options = Fixtures.emojiOptions(tmp.resolve("out"), tmp);
        EmojiDatasetBuilder.build(options);
        byte[] first = Files.readAllBytes(tmp.resolve("out/images.u8"));
        String manifest = Files.readString(tmp.resolve("out/manifest.jsonl"));
        assertTrue(EmojiDatasetBuilder.build(options).reused());
        assertFalse(EmojiDatasetBuilder.build(options.withSize(8)).reused(), "other options rebuild");
        EmojiDatasetBuilder.build(options.withForce(true).withThreads(1));
        assertArrayEquals(first, Files.readAllBytes(tmp.resolve("out/images.u8")));
        assertEquals(manifest, Files.readString(tmp.resolve("out/manifest.jsonl")));
    }

    @Test
    void heldOutEmojiIsHeldOutInEveryStyleAndTone() throws IOException {
        ImageDataset all = build(1.0, 0.0);
        for (DatasetItem item : all.items()) {
            assertEquals(DatasetItem.TEST, item.split(), item.key());
            assertEquals("emoji", item.holdout(), item.key());
        }
        ImageDataset pairs = build(0.0, 1.0);
        for (DatasetItem item : pairs.items()) {
            assertEquals("pair", pairs.item(item.index()).holdout(), item.key());
        }
        ImageDataset none = build(0.0, 0.0);
        assertEquals(none.size(), none.indices(DatasetItem.TRAIN).length);
    }

    @Test
    void skinTonesAndStylesFollowTheirBaseEmojiAcrossSeeds() throws IOException {
        boolean sawMixed = false;
        for (long seed = 0; seed < 12; seed++) {
            ImageDataset data = build(seed, 0.5, 0.0);
            Map<Integer, Set<String>> holdoutsByEmoji = new HashMap<>();
            for (DatasetItem item : data.items()) {
                holdoutsByEmoji.computeIfAbsent(item.classId(), k -> new HashSet<>()).add(item.split() + "/" + item.holdout());
            }
            for (Set<String> h : holdoutsByEmoji.values()) {
                assertEquals(1, h.size(), "seed " + seed + ": one emoji split across " + h);
            }
            sawMixed |= new HashSet<>(holdoutsByEmoji.values()).size() > 1;
        }
        assertTrue(sawMixed, "some seed should hold out one emoji and keep the other");
    }

    private ImageDataset build(double emojiFraction, double pairFraction) throws IOException {
        return build(7, emojiFraction, pairFraction);
    }

    private ImageDataset build(long seed, double emojiFraction, double pairFraction) throws IOException {
        Path out = tmp.resolve("split-" + seed + "-" + emojiFraction + "-" + pairFraction);
        EmojiDatasetBuilder.build(Fixtures.emojiOptions(out, tmp).withSplit(seed, emojiFraction, pairFraction));
        return ImageDataset.open(out);
    }

    @Test
    void captionSetV2AddsShortcodesOfTheBaseEmojiAndWritesHeldOutParaphrases() throws IOException {
        BuildReport report = EmojiDatasetBuilder.build(Fixtures.emojiOptions(tmp.resolve("v2"), tmp).withCaptions(CaptionSet.V2));
        ImageDataset data = ImageDataset.open(report.dir());
        assertEquals("v2", report.info().build().path("captions").asText());
        assertEquals("fox, alpha style", data.caption(0));
        assertTrue(data.item(0).captions().contains("fox face, alpha style"), data.item(0).captions().toString());
        assertTrue(data.item(4).captions().contains("wave: medium skin tone"), data.item(4).captions().toString());
        List<HeldOutPrompt> prompts = HeldOutPrompts.read(report.dir());
        // fox (alpha, beta), waving hand (alpha), light tone (beta), medium tone (alpha): 2 plain + 2 per style
        assertEquals(4 * 2 + 5 * 2, prompts.size());
        assertTrue(prompts.contains(new HeldOutPrompt("the fox emoji in beta style", "fox", data.item(1).classId(), "beta")));
        Set<String> captions = new HashSet<>();
        data.items().forEach(i -> captions.addAll(i.captions()));
        prompts.forEach(p -> assertFalse(captions.contains(p.prompt()), p.prompt()));
    }

    private static void assertPixel(ImageDataset data, int index, int y, int x, int r, int g, int b) {
        byte[] px = data.pixels(index);
        int p = (y * data.width() + x) * 3;
        int[] actual = {px[p] & 0xff, px[p + 1] & 0xff, px[p + 2] & 0xff};
        assertArrayEquals(new int[] {r, g, b}, actual, "pixel (" + y + "," + x + ") of " + data.item(index).key());
    }
}
