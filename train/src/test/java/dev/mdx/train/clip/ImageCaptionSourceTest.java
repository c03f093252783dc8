package dev.mdx.train.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.train.BatchSource;
import dev.mdx.train.DataPosition;
import dev.mdx.train.Rng;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDataset;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageCaptionSourceTest {
    @TempDir
    Path tmp;

    @Test
    void batchesAreAFunctionOfPositionAndGeneratorAndWalkThroughEpochs() {
        ImageDataset data = ImageDataset.open(ClipTrainingTest.writeDataset(tmp.resolve("squares")));
        ClipTokenizerFiles.write(tmp.resolve("tok"), new BpeTrainer(530, 1).train(
                ClipTraining.trainCaptions(data, data.indices(DatasetItem.TRAIN))), 16);
        ClipTokenizer tokenizer = ClipTokenizer.load(tmp.resolve("tok"));
        int[] train = data.indices(DatasetItem.TRAIN);
        assertEquals(48, train.length);
        ImageCaptionSource source = new ImageCaptionSource(data, train, 10, 3, tokenizer, true, 0);
        try (NDManager m = NDManager.newBaseManager()) {
            Rng rng = new Rng(9);
            DataPosition pos = DataPosition.START;
            long[][] ids = new long[6][];
            DataPosition[] positions = new DataPosition[6];
            long[] rngStates = new long[6];
            for (int step = 0; step < 6; step++) {
                positions[step] = pos;
                rngStates[step] = rng.state();
                BatchSource.Next<ClipBatch> next = source.next(m, pos, rng);
                ids[step] = next.batch().inputIds().toLongArray();
                assertEquals(10, next.batch().size());
                assertEquals(List.of(10L, 3L, 16L, 16L), java.util.Arrays.stream(
                        next.batch().images().getShape().getShape()).boxed().toList());
                pos = next.position();
            }
            // 48 items in batches of 10: 4 batches per epoch, the short tail dropped when the next batch starts
            assertEquals(new DataPosition(0, 40), positions[4]);
            assertEquals(new DataPosition(1, 10), positions[5]);
            assertEquals(new DataPosition(1, 20), pos);
            // resuming at a saved position with the saved generator state gives the same batch
            BatchSource.Next<ClipBatch> again = source.next(m, positions[3], Rng.restore(rngStates[3]));
            assertArrayEquals(ids[3], again.batch().inputIds().toLongArray());
            assertEquals(positions[4], again.position());
            assertNotEquals(java.util.Arrays.toString(ids[0]), java.util.Arrays.toString(ids[4]));
            // with made-up words on, the same position and generator give other token ids (the same images)
            ImageCaptionSource noisy = new ImageCaptionSource(data, train, 10, 3, tokenizer, true, 1.0);
            BatchSource.Next<ClipBatch> withWords = noisy.next(m, positions[3], Rng.restore(rngStates[3]));
            assertNotEquals(java.util.Arrays.toString(ids[3]),
                    java.util.Arrays.toString(withWords.batch().inputIds().toLongArray()));
            assertEquals(positions[4], withWords.position());
        }
    }

    @Test
    void pairsWithTheSameCanonicalCaptionShareAGroup() {
        ImageDataset data = ImageDataset.open(ClipTrainingTest.writeDataset(tmp.resolve("squares")));
        int[] items = {0, 8, 1, 16, 2};
        // items 0, 8 and 16 are red squares at different places; 1 is green, 2 blue
        assertArrayEquals(new int[] {0, 0, 1, 0, 2}, ImageCaptionSource.groups(data, items));
        float[] t = ContrastiveLoss.targets(ImageCaptionSource.groups(data, items));
        assertEquals(1f / 3, t[0 * 5 + 3], 1e-7);
        assertEquals(1f, t[2 * 5 + 2], 1e-7);
        assertTrue(t[2 * 5 + 0] == 0f);
    }
}
