package dev.mdx.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The scalar state of a run saved in a checkpoint's {@code trainer_state.json}, beside the config that made it.
 * The generator state is written as 16 hex digits so JSON readers that hold numbers as doubles cannot round it.
 */
public record TrainerState(long step, DataPosition position, long rngState, double elapsedSeconds,
        JsonNode config) {
    public static final String FILE = "trainer_state.json";

    public ObjectNode toJson() {
        ObjectNode root = JsonConfig.MAPPER.createObjectNode();
        root.put("step", step);
        ObjectNode pos = root.putObject("data_position");
        pos.put("epoch", position.epoch());
        pos.put("index", position.index());
        root.put("rng_state", String.format("%016x", rngState));
        root.put("elapsed_seconds", elapsedSeconds);
        root.set("config", config == null ? JsonConfig.MAPPER.createObjectNode() : config.deepCopy());
        return root;
    }

    public void write(Path file) {
        AtomicFiles.writeBytes(file, (JsonConfig.pretty(toJson()) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    public static TrainerState read(Path file) {
        JsonConfig c = JsonConfig.read(file);
        JsonNode pos = c.root().get("data_position");
        String rng = c.getString("rng_state", null);
        if (rng == null || !rng.matches("[0-9a-f]{16}")) {
            throw c.error("rng_state", "must be 16 hex digits, got " + rng);
        }
        if (pos == null || !pos.isObject() || !pos.path("epoch").canConvertToLong()
                || !pos.path("index").canConvertToLong() || pos.get("epoch").asLong() < 0
                || pos.get("index").asLong() < 0) {
            throw c.error("data_position", "must be an object with non-negative integer epoch and index, got " + pos);
        }
        long step = longField(c, "step");
        return new TrainerState(step, new DataPosition(pos.get("epoch").asLong(), pos.get("index").asLong()),
                Long.parseUnsignedLong(rng, 16), c.getDouble("elapsed_seconds", 0), c.root().get("config"));
    }

    private static long longField(JsonConfig c, String key) {
        JsonNode n = c.root().get(key);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
            throw c.error(key, "must be a non-negative integer, got " + n);
        }
        return n.asLong();
    }
}
