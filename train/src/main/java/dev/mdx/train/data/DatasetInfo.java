package dev.mdx.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * The header of a cached image data set ({@code dataset.json}). Images are one raw file of uint8 pixels in
 * (N, H, W, C) order, RGB or gray, no header, so numpy can read it with {@code fromfile(...).reshape(N,H,W,C)};
 * the manifest holds one JSON {@link DatasetItem} per line in image order. {@code build} records what the set was
 * built from (a rebuild with the same inputs is skipped); {@code stats} holds counts for reports.
 */
public record DatasetInfo(String format, int formatVersion, String name, int count, int height, int width,
        int channels, String layout, String dtype, String images, String manifest, Map<String, Integer> splits,
        JsonNode build, JsonNode stats) {
    public static final String FORMAT = "mdx-image-dataset";
    public static final int FORMAT_VERSION = 1;
    public static final String FILE = "dataset.json";
    public static final String IMAGES_FILE = "images.u8";
    public static final String MANIFEST_FILE = "manifest.jsonl";

    public int imageBytes() {
        return height * width * channels;
    }
}
