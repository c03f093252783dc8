package dev.mdx.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDatasetTest {
    @TempDir
    Path tmp;

    private byte[][] writeRandom(Path dir, int n, int h, int w, int c) {
        Random rnd = new Random(1);
        byte[][] images = new byte[n][h * w * c];
        try (ImageDatasetWriter writer = new ImageDatasetWriter(dir, "random", h, w, c)) {
            for (int i = 0; i < n; i++) {
                rnd.nextBytes(images[i]);
                images[i][0] = (byte) (i % 2 == 0 ? 0 : 255);
                writer.add(images[i], new DatasetItem(-1, i % 3 == 0 ? DatasetItem.TEST : DatasetItem.TRAIN, "l" + i, i, null,
                        List.of("caption " + i, "variant " + i), "k" + i, null));
            }
            writer.finish(ImageDatasetWriter.MAPPER.createObjectNode().put("builder", "test"), ImageDatasetWriter.MAPPER.createObjectNode());
        }
        return images;
    }

    @Test
    void roundTripsPixelsManifestAndFloatBatches() {
        byte[][] images = writeRandom(tmp, 7, 4, 5, 3);
        ImageDataset data = ImageDataset.open(tmp);
        assertEquals(7, data.size());
        assertArrayEquals(new int[] {0, 3, 6}, data.indices(DatasetItem.TEST));
        for (int i = 0; i < 7; i++) {
            assertArrayEquals(images[i], data.pixels(i));
            assertEquals(i, data.item(i).index());
            assertEquals("caption " + i, data.caption(i));
            assertTrue(data.item(i).captions().contains(data.caption(i, 1234L)));
        }
        int[] pick = {5, 2};
        float[] expected = new float[2 * 3 * 4 * 5];
        for (int b = 0; b < 2; b++) {
            for (int ch = 0; ch < 3; ch++) {
                for (int p = 0; p < 20; p++) {
                    expected[b * 60 + ch * 20 + p] = (images[pick[b]][p * 3 + ch] & 0xff) / 127.5f - 1f;
                }
            }
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray batch = data.batch(manager, pick);
            assertArrayEquals(new long[] {2, 3, 4, 5}, batch.getShape().getShape());
            assertArrayEquals(expected, batch.toFloatArray(), 0f);
        }
        assertEquals(-1f, data.image(0)[0], 0f);
        assertEquals(1f, data.image(1)[0], 0f);
        assertEquals(data.captions(pick, 99L), data.captions(pick, 99L));
    }

    @Test
    void rgbRepeatsGrayAndKeepsColour() {
        byte[][] gray = writeRandom(tmp.resolve("gray"), 2, 2, 3, 1);
        ImageDataset g = ImageDataset.open(tmp.resolve("gray"));
        byte[] rgb = g.rgb(1);
        assertEquals(2 * 3 * 3, rgb.length);
        for (int p = 0; p < 6; p++) {
            for (int k = 0; k < 3; k++) {
                assertEquals(gray[1][p], rgb[3 * p + k]);
            }
        }
        byte[][] colour = writeRandom(tmp.resolve("colour"), 2, 2, 3, 3);
        assertArrayEquals(colour[0], ImageDataset.open(tmp.resolve("colour")).rgb(0));
    }

    @Test
    void refusesIncompleteOrDamagedSets() throws IOException {
        writeRandom(tmp, 3, 2, 2, 1);
        Files.write(tmp.resolve(DatasetInfo.IMAGES_FILE), new byte[5]);
        DatasetException shortFile = assertThrows(DatasetException.class, () -> ImageDataset.open(tmp));
        assertTrue(shortFile.getMessage().contains("expected 12"), shortFile.getMessage());

        Path unfinished = tmp.resolve("unfinished");
        try (ImageDatasetWriter writer = new ImageDatasetWriter(unfinished, "x", 2, 2, 1)) {
            writer.add(new byte[4], new DatasetItem(0, DatasetItem.TRAIN, "a", 0, null, List.of("a"), "a", null));
        }
        DatasetException noHeader = assertThrows(DatasetException.class, () -> ImageDataset.open(unfinished));
        assertTrue(noHeader.getMessage().contains("did not finish"), noHeader.getMessage());
    }

    /** Jackson's "[Source: REDACTED ...]" stays out: the file, the line and column, and the problem. */
    @Test
    void damagedJsonNamesFileLineAndColumn() throws IOException {
        Path header = tmp.resolve("header");
        writeRandom(header, 3, 2, 2, 1);
        Files.writeString(header.resolve(DatasetInfo.FILE), "{\"format\": \"mdx-images\",\n \"count\": }");
        DatasetException badHeader = assertThrows(DatasetException.class, () -> ImageDataset.open(header));
        assertTrue(badHeader.getMessage().startsWith(header.resolve(DatasetInfo.FILE) + ": not valid JSON at line 2,"),
                badHeader.getMessage());
        assertNoJacksonSource(badHeader);

        Path manifest = tmp.resolve("manifest");
        writeRandom(manifest, 3, 2, 2, 1);
        Path file = manifest.resolve(DatasetInfo.MANIFEST_FILE);
        List<String> lines = Files.readAllLines(file);
        Files.write(file, List.of(lines.get(0), lines.get(1).substring(0, 10), lines.get(2)));
        DatasetException badLine = assertThrows(DatasetException.class, () -> ImageDataset.open(manifest));
        assertTrue(badLine.getMessage().startsWith(file + ": not valid JSON at line 2, column "), badLine.getMessage());
        assertNoJacksonSource(badLine);
    }

    static void assertNoJacksonSource(Exception e) {
        assertFalse(e.getMessage().contains("Source") || e.getMessage().contains("REDACTED"), e.getMessage());
    }

    /** Fields every reader relies on, missing from a damaged header or manifest: named, never a null pointer. */
    @Test
    void missingHeaderAndManifestFieldsAreDatasetErrors() throws IOException {
        writeRandom(tmp, 3, 2, 2, 1);
        Path header = tmp.resolve(DatasetInfo.FILE);
        String saved = Files.readString(header);
        Files.writeString(header, saved.replaceAll("\"images\" ?: ?\"[^\"]*\",?", ""));
        DatasetException noImages = assertThrows(DatasetException.class, () -> ImageDataset.open(tmp));
        assertTrue(noImages.getMessage().contains("names no images or manifest file"), noImages.getMessage());
        Files.writeString(header, saved);
        Path manifest = tmp.resolve(DatasetInfo.MANIFEST_FILE);
        Files.writeString(manifest, Files.readString(manifest).replaceFirst("\"split\" ?: ?\"[^\"]*\",?", ""));
        DatasetException noSplit = assertThrows(DatasetException.class, () -> ImageDataset.open(tmp));
        assertTrue(noSplit.getMessage().contains("has no split"), noSplit.getMessage());
    }
}
