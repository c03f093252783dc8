package dev.mdx.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mdx.io.JsonConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A cached image data set written by {@link ImageDatasetWriter}: images memory-mapped, manifest in memory.
 * Pixels come out as floats in [-1, 1], channels first, the layout the VAE and UNet take. Reading is safe from
 * several threads.
 */
public final class ImageDataset {
    // fields added by later builders must not break older readers
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path dir;
    private final DatasetInfo info;
    private final MappedByteBuffer pixels;
    private final List<DatasetItem> items;

    private ImageDataset(Path dir, DatasetInfo info, MappedByteBuffer pixels, List<DatasetItem> items) {
        this.dir = dir;
        this.info = info;
        this.pixels = pixels;
        this.items = items;
    }

    public static ImageDataset open(Path dir) {
        Path header = dir.resolve(DatasetInfo.FILE);
        DatasetInfo info;
        try {
            info = MAPPER.readValue(header.toFile(), DatasetInfo.class);
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new DatasetException(dir + ": no " + DatasetInfo.FILE + " (not a built data set, or its build did not finish)");
        } catch (JsonProcessingException e) {
            throw new DatasetException(header + ": " + JsonConfig.describe(e), e);
        } catch (IOException e) {
            throw new DatasetException(header + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (!DatasetInfo.FORMAT.equals(info.format()) || info.formatVersion() != DatasetInfo.FORMAT_VERSION) {
            throw new DatasetException(header + ": format " + info.format() + " v" + info.formatVersion()
                    + ", expected " + DatasetInfo.FORMAT + " v" + DatasetInfo.FORMAT_VERSION + " (rebuild the data set)");
        }
        if (!"NHWC".equals(info.layout()) || !"uint8".equals(info.dtype())) {
            throw new DatasetException(header + ": layout " + info.layout() + "/" + info.dtype() + ", expected NHWC/uint8");
        }
        if (info.images() == null || info.manifest() == null) {
            throw new DatasetException(header + ": the header names no images or manifest file");
        }
        if (info.count() < 0 || info.height() < 1 || info.width() < 1 || info.channels() < 1) {
            throw new DatasetException(header + ": count " + info.count() + " and image size " + info.height() + "x"
                    + info.width() + "x" + info.channels() + " must be positive");
        }
        Path imagesFile = dir.resolve(info.images());
        long expected = (long) info.count() * info.imageBytes();
        MappedByteBuffer pixels;
        try (FileChannel ch = FileChannel.open(imagesFile, StandardOpenOption.READ)) {
            if (ch.size() != expected) {
                throw new DatasetException(imagesFile + ": " + ch.size() + " bytes, expected " + expected + " ("
                        + info.count() + " images of " + info.height() + "x" + info.width() + "x" + info.channels() + ")");
            }
            if (expected > Integer.MAX_VALUE) {
                throw new DatasetException(imagesFile + ": larger than 2 GiB, which this reader does not map");
            }
            pixels = ch.map(FileChannel.MapMode.READ_ONLY, 0, expected);
        } catch (NoSuchFileException e) {
            throw new DatasetException(dir + ": images file " + info.images() + " is missing");
        } catch (IOException e) {
            throw new DatasetException(imagesFile + ": cannot read (" + e.getMessage() + ")", e);
        }
        List<DatasetItem> items = readManifest(dir.resolve(info.manifest()), info.count());
        return new ImageDataset(dir, info, pixels, Collections.unmodifiableList(items));
    }

    private static List<DatasetItem> readManifest(Path file, int count) {
        List<DatasetItem> items = new ArrayList<>(count);
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNumber = 0;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                DatasetItem item;
                try {
                    item = MAPPER.readValue(line, DatasetItem.class);
                } catch (JsonProcessingException e) {
                    throw new DatasetException(file + ": " + JsonConfig.describe(e, lineNumber), e);
                }
                if (item.index() != items.size()) {
                    throw new DatasetException(file + ": line " + (items.size() + 1) + " has index " + item.index());
                }
                items.add(item);
            }
        } catch (NoSuchFileException e) {
            throw new DatasetException(file + ": manifest is missing");
        } catch (IOException e) {
            throw new DatasetException(file + ": not a valid manifest (" + e.getMessage() + ")", e);
        }
        if (items.size() != count) {
            throw new DatasetException(file + ": " + items.size() + " entries, the header says " + count);
        }
        return items;
    }

    public Path dir() {
        return dir;
    }

    public DatasetInfo info() {
        return info;
    }

    public int size() {
        return items.size();
    }

    public int channels() {
        return info.channels();
    }

    public int height() {
        return info.height();
    }

    public int width() {
        return info.width();
    }

    public DatasetItem item(int index) {
        return items.get(index);
    }

    public List<DatasetItem> items() {
        return items;
    }

    public String caption(int index) {
        return items.get(index).caption();
    }

    /** One caption variant chosen by a seed, e.g. the sample's global step; the same seed gives the same caption. */
    public String caption(int index, long seed) {
        List<String> captions = items.get(index).captions();
        return captions.get(Math.floorMod(StableHash.mix(seed ^ StableHash.mix(index)), captions.size()));
    }

    public String label(int index) {
        return items.get(index).label();
    }

    public String split(int index) {
        return items.get(index).split();
    }

    /** Indices of the items in one split, ascending. */
    public int[] indices(String split) {
        return IntStream.range(0, items.size()).filter(i -> items.get(i).split().equals(split)).toArray();
    }

    /**
     * Indices of the split a training run draws batches of {@code batchSize} (its train_batch_size) from; fails
     * naming the split when it has fewer items than one batch.
     */
    public int[] trainingPool(String split, int batchSize) {
        int[] pool = indices(split);
        if (pool.length < batchSize) {
            throw new DatasetException(dir + ": split '" + split + "' has " + pool.length
                    + " items, fewer than train_batch_size " + batchSize);
        }
        return pool;
    }

    /** Raw pixels, (H, W, C) uint8. */
    public byte[] pixels(int index) {
        byte[] out = new byte[info.imageBytes()];
        pixels.get(index * info.imageBytes(), out, 0, out.length);
        return out;
    }

    /** One image as (H, W, 3) RGB bytes; a gray image is repeated into R, G and B. */
    public byte[] rgb(int index) {
        byte[] px = pixels(index);
        if (channels() == 3) {
            return px;
        }
        byte[] out = new byte[px.length * 3];
        for (int p = 0; p < px.length; p++) {
            out[3 * p] = px[p];
            out[3 * p + 1] = px[p];
            out[3 * p + 2] = px[p];
        }
        return out;
    }

    /** One image, (C, H, W), values in [-1, 1]. */
    public float[] image(int index) {
        float[] out = new float[info.imageBytes()];
        writeChw(index, out, 0);
        return out;
    }

    /** A batch of images as one float32 array, (B, C, H, W), values in [-1, 1], owned by {@code manager}. */
    public NDArray batch(NDManager manager, int[] indices) {
        int n = info.imageBytes();
        float[] data = new float[indices.length * n];
        for (int b = 0; b < indices.length; b++) {
            writeChw(indices[b], data, b * n);
        }
        return manager.create(data, new Shape(indices.length, info.channels(), info.height(), info.width()));
    }

    /** Captions of a batch, chosen per sample from {@code seed} (see {@link #caption(int, long)}). */
    public List<String> captions(int[] indices, long seed) {
        List<String> out = new ArrayList<>(indices.length);
        for (int i = 0; i < indices.length; i++) {
            out.add(caption(indices[i], seed + i));
        }
        return out;
    }

    // (H, W, C) uint8 -> (C, H, W) float in [-1, 1]
    private void writeChw(int index, float[] out, int offset) {
        byte[] hwc = pixels(index);
        int c = info.channels();
        int plane = info.height() * info.width();
        for (int p = 0; p < plane; p++) {
            for (int ch = 0; ch < c; ch++) {
                out[offset + ch * plane + p] = (hwc[p * c + ch] & 0xff) / 127.5f - 1f;
            }
        }
    }
}
