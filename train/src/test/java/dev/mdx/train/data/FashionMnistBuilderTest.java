package dev.mdx.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistBuilderTest {
    @TempDir
    Path tmp;

    private byte[] trainImages;
    private final byte[] trainLabels = {7, 0, 9};
    private byte[] testImages;
    private final byte[] testLabels = {1, 8};

    /** 3 train and 2 test images of random pixels; train files gzipped, test files plain, as both occur. */
    private Path writeSource() throws IOException {
        Random rnd = new Random(42);
        trainImages = new byte[3 * 28 * 28];
        testImages = new byte[2 * 28 * 28];
        rnd.nextBytes(trainImages);
        rnd.nextBytes(testImages);
        Path src = Files.createDirectories(tmp.resolve("src"));
        gzip(src.resolve("train-images-idx3-ubyte.gz"), IdxFile.encode(new int[] {3, 28, 28}, trainImages));
        gzip(src.resolve("train-labels-idx1-ubyte.gz"), IdxFile.encode(new int[] {3}, trainLabels));
        Files.write(src.resolve("t10k-images-idx3-ubyte"), IdxFile.encode(new int[] {2, 28, 28}, testImages));
        Files.write(src.resolve("t10k-labels-idx1-ubyte"), IdxFile.encode(new int[] {2}, testLabels));
        return src;
    }

    private static void gzip(Path file, byte[] bytes) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(bytes);
        }
    }

    private FashionMnistBuilder.Options options(Path src, int size) {
        return FashionMnistBuilder.Options.defaults(tmp.resolve("out" + size)).withSource(src, tmp.resolve("no-doc")).withSize(size);
    }

    @Test
    void padsTo32KeepingPixelsLabelsAndOfficialSplit() throws IOException {
        Path src = writeSource();
        BuildReport report = FashionMnistBuilder.build(options(src, 32));
        ImageDataset data = ImageDataset.open(report.dir());
        assertEquals(5, data.size());
        assertEquals(1, data.channels());
        assertEquals(32, data.height());
        assertArrayEquals(new int[] {0, 1, 2}, data.indices(DatasetItem.TRAIN));
        assertArrayEquals(new int[] {3, 4}, data.indices(DatasetItem.TEST));
        assertEquals("Sneaker", data.label(0));
        assertEquals(7, data.item(0).classId());
        assertEquals("a photo of a sneaker", data.caption(0));
        assertEquals("Bag", data.label(4));
        assertEquals("test/1", data.item(4).key());

        for (int i = 0; i < 5; i++) {
            byte[] source = i < 3 ? trainImages : testImages;
            int n = i < 3 ? i : i - 3;
            byte[] px = data.pixels(i);
            byte[] expected = new byte[32 * 32];
            for (int y = 0; y < 28; y++) {
                System.arraycopy(source, (n * 28 + y) * 28, expected, (y + 2) * 32 + 2, 28);
            }
            assertArrayEquals(expected, px, "image " + i + " is the source padded by 2 black pixels");
        }
        assertTrue(Files.readString(report.dir().resolve("ATTRIBUTION.md")).contains("Zalando"));
        assertTrue(FashionMnistBuilder.build(options(src, 32)).reused());
    }

    @Test
    void size28KeepsTheOriginalImages() throws IOException {
        Path src = writeSource();
        ImageDataset data = ImageDataset.open(FashionMnistBuilder.build(options(src, 28)).dir());
        byte[] first = new byte[28 * 28];
        System.arraycopy(trainImages, 28 * 28, first, 0, first.length);
        assertArrayEquals(first, data.pixels(1));
    }

    @Test
    void explainsMissingDataAndBadFiles() throws IOException {
        DatasetException missing = assertThrows(DatasetException.class,
                () -> FashionMnistBuilder.build(options(tmp.resolve("nowhere"), 32)));
        assertTrue(missing.getMessage().contains("apt-get install dataset-fashion-mnist"), missing.getMessage());

        Path src = writeSource();
        Files.write(src.resolve("t10k-labels-idx1-ubyte"), IdxFile.encode(new int[] {2}, new byte[] {1, 12}));
        DatasetException badLabel = assertThrows(DatasetException.class, () -> FashionMnistBuilder.build(options(src, 32)));
        assertTrue(badLabel.getMessage().contains("label 12"), badLabel.getMessage());

        Files.write(src.resolve("t10k-labels-idx1-ubyte"), IdxFile.encode(new int[] {3}, new byte[] {1, 2, 3}));
        DatasetException mismatch = assertThrows(DatasetException.class, () -> FashionMnistBuilder.build(options(src, 32)));
        assertTrue(mismatch.getMessage().contains("expected [2]"), mismatch.getMessage());
    }

    @Test
    void idxReaderRejectsTruncatedAndForeignFiles() throws IOException {
        byte[] full = IdxFile.encode(new int[] {2, 3}, new byte[] {1, 2, 3, 4, 5, 6});
        Path ok = tmp.resolve("ok");
        Files.write(ok, full);
        IdxFile idx = IdxFile.read(ok);
        assertArrayEquals(new int[] {2, 3}, idx.dims());
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6}, idx.data());

        Path truncated = tmp.resolve("truncated");
        Files.write(truncated, java.util.Arrays.copyOf(full, full.length - 1));
        assertTrue(assertThrows(DatasetException.class, () -> IdxFile.read(truncated)).getMessage().contains("truncated"));

        Path foreign = tmp.resolve("foreign");
        Files.writeString(foreign, "hello world");
        assertTrue(assertThrows(DatasetException.class, () -> IdxFile.read(foreign)).getMessage().contains("bad magic"));
    }

    @Test
    void captionSetV2WritesTheVocabularyAndAHeldOutListAndKeepsV1Fingerprints() throws IOException {
        Path src = writeSource();
        BuildReport v1 = FashionMnistBuilder.build(options(src, 32));
        assertFalse(v1.info().build().has("captions"), "a v1 build keeps the fingerprint of builds made before v2");
        assertFalse(Files.exists(v1.dir().resolve(HeldOutPrompts.FILE)));

        BuildReport v2 = FashionMnistBuilder.build(options(src, 32).withCaptions(CaptionSet.V2));
        assertFalse(v2.reused(), "v2 captions are a different build");
        ImageDataset data = ImageDataset.open(v2.dir());
        assertEquals(FashionVocabulary.captions(7, "train/0"), data.item(0).captions());
        assertEquals("a photo of a sneaker", data.caption(0));
        List<HeldOutPrompt> prompts = HeldOutPrompts.read(v2.dir());
        assertEquals(FashionVocabulary.heldOutPrompts(), prompts);
        for (int i = 0; i < data.size(); i++) {
            for (String c : data.item(i).captions()) {
                assertTrue(prompts.stream().noneMatch(p -> p.prompt().equals(c)), c);
            }
        }
        assertTrue(FashionMnistBuilder.build(options(src, 32).withCaptions(CaptionSet.V2)).reused());
    }

    @Test
    void captionSetV3WritesMoreFramesWithV2sHeldOutList() throws IOException {
        Path src = writeSource();
        BuildReport v2 = FashionMnistBuilder.build(options(src, 32).withCaptions(CaptionSet.V2));
        BuildReport v3 = FashionMnistBuilder.build(options(src, 32).withCaptions(CaptionSet.V3));
        assertFalse(v3.reused(), "v3 captions are a different build");
        assertEquals("v3", v3.info().build().get("captions").asText());
        ImageDataset data = ImageDataset.open(v3.dir());
        assertEquals(FashionVocabulary.captions(7, "train/0", CaptionSet.V3), data.item(0).captions());
        assertEquals("a photo of a sneaker", data.caption(0));
        assertEquals(HeldOutPrompts.read(v2.dir()), HeldOutPrompts.read(v3.dir()));
    }
}
