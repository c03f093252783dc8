package dev.mdx.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** What the builders share: reusing an up-to-date build. */
final class Builds {
    private Builds() {}

    /** The existing build in {@code dir} if it opens cleanly and was built from the same inputs. */
    static Optional<BuildReport> reuse(Path dir, JsonNode fingerprint, boolean force, long startNanos) {
        if (force || !Files.isRegularFile(dir.resolve(DatasetInfo.FILE))) {
            return Optional.empty();
        }
        try {
            ImageDataset existing = ImageDataset.open(dir);
            // compare as read back from JSON: a long written now may read back as an int node
            JsonNode expected = ImageDatasetWriter.MAPPER.readTree(ImageDatasetWriter.MAPPER.writeValueAsString(fingerprint));
            if (expected.equals(existing.info().build())) {
                return Optional.of(new BuildReport(dir, existing.info(), true, (System.nanoTime() - startNanos) / 1e9));
            }
        } catch (DatasetException | IOException e) {
            // a damaged or older build is rebuilt
        }
        return Optional.empty();
    }

    static JsonNode json(byte[] bytes) {
        if (bytes == null) {
            return MissingNode.getInstance();
        }
        try {
            return ImageDatasetWriter.MAPPER.readTree(bytes);
        } catch (IOException e) {
            return MissingNode.getInstance();
        }
    }
}
