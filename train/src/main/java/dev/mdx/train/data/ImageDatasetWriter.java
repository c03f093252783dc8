package dev.mdx.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mdx.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Writes a cached image data set. The old {@code dataset.json} is removed first and the new one is written last,
 * so a build that stops half way leaves no folder that {@link ImageDataset#open} accepts.
 */
public final class ImageDatasetWriter implements AutoCloseable {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path dir;
    private final String name;
    private final int height;
    private final int width;
    private final int channels;
    private final Path imagesTmp;
    private final FileChannel images;
    private final List<DatasetItem> items = new ArrayList<>();
    private boolean finished;

    public ImageDatasetWriter(Path dir, String name, int height, int width, int channels) {
        this.dir = dir;
        this.name = name;
        this.height = height;
        this.width = width;
        this.channels = channels;
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(DatasetInfo.FILE));
            imagesTmp = dir.resolve("." + DatasetInfo.IMAGES_FILE + ".tmp");
            images = FileChannel.open(imagesTmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new DatasetException("cannot write data set into " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Appends one image, (H, W, C) uint8, and its manifest entry; the entry's index is set to its position. */
    public int add(byte[] pixels, DatasetItem item) {
        if (pixels.length != height * width * channels) {
            throw new IllegalArgumentException("image " + item.key() + " has " + pixels.length + " bytes, expected "
                    + height + "x" + width + "x" + channels);
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(pixels);
            while (b.hasRemaining()) {
                images.write(b);
            }
        } catch (IOException e) {
            throw new DatasetException("cannot write " + imagesTmp + ": " + e.getMessage(), e);
        }
        int index = items.size();
        items.add(item.withIndex(index));
        return index;
    }

    public int size() {
        return items.size();
    }

    /** Closes the image file and writes the manifest, then the header. */
    public DatasetInfo finish(JsonNode build, JsonNode stats) {
        TreeMap<String, Integer> splits = new TreeMap<>();
        for (DatasetItem item : items) {
            splits.merge(item.split(), 1, Integer::sum);
        }
        DatasetInfo info = new DatasetInfo(DatasetInfo.FORMAT, DatasetInfo.FORMAT_VERSION, name, items.size(), height,
                width, channels, "NHWC", "uint8", DatasetInfo.IMAGES_FILE, DatasetInfo.MANIFEST_FILE, splits, build, stats);
        try {
            images.force(true);
            images.close();
            Files.move(imagesTmp, dir.resolve(DatasetInfo.IMAGES_FILE), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            StringBuilder manifest = new StringBuilder();
            for (DatasetItem item : items) {
                manifest.append(MAPPER.writeValueAsString(item)).append('\n');
            }
            AtomicFiles.writeBytes(dir.resolve(DatasetInfo.MANIFEST_FILE), manifest.toString().getBytes(StandardCharsets.UTF_8));
            AtomicFiles.writeBytes(dir.resolve(DatasetInfo.FILE),
                    MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(info));
        } catch (IOException e) {
            throw new DatasetException("cannot finish data set in " + dir + ": " + e.getMessage(), e);
        }
        finished = true;
        return info;
    }

    @Override
    public void close() {
        if (finished) {
            return;
        }
        try {
            images.close();
            Files.deleteIfExists(imagesTmp);
        } catch (IOException ignored) {
            // best effort cleanup of an unfinished build; the folder has no dataset.json and is never read
        }
    }
}
