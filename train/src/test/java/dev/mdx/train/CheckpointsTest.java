package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.MdxException;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
    @TempDir
    Path tmp;

    private static TrainerState state(long step) {
        ObjectNode cfg = JsonConfig.MAPPER.createObjectNode();
        cfg.putObject("trainer").put("max_train_steps", 100);
        return new TrainerState(step, new DataPosition(2, 17), 0xfedcba9876543210L, 12.5, cfg);
    }

    private static Checkpoints.Content files(long step) {
        return dir -> {
            try {
                Files.writeString(dir.resolve(Checkpoints.MODEL), "weights " + step);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            state(step).write(dir.resolve(TrainerState.FILE));
        };
    }

    @Test
    void keepsTheNewestAndListsInStepOrder() throws IOException {
        Checkpoints store = new Checkpoints(tmp, 2);
        assertTrue(store.latest().isEmpty());
        for (long step : new long[] {100, 200, 300}) {
            store.write(step, files(step));
        }
        assertEquals(List.of(200L, 300L), store.list().stream().map(Checkpoints.Checkpoint::step).toList());
        assertEquals(tmp.resolve("checkpoints/step-00000300"), store.latest().orElseThrow().dir());
        assertEquals("weights 300", Files.readString(store.latest().orElseThrow().model()));
        try (Stream<Path> s = Files.list(store.root())) {
            assertEquals(2, s.count(), "no temporary folders left behind");
        }
    }

    @Test
    void aWriteThatFailsLeavesNothingVisible() {
        Checkpoints store = new Checkpoints(tmp, 3);
        store.write(10, files(10));
        RuntimeException boom = assertThrows(RuntimeException.class, () -> store.write(20, dir -> {
            try {
                Files.writeString(dir.resolve(Checkpoints.MODEL), "half");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            throw new IllegalStateException("disk full");
        }));
        assertEquals("disk full", boom.getMessage());
        assertEquals(List.of(10L), store.list().stream().map(Checkpoints.Checkpoint::step).toList());
        assertEquals(0, store.removePartial(), "the failed write cleaned up after itself");
    }

    @Test
    void leftoversOfACrashAreIgnoredThenRemoved() throws IOException {
        Checkpoints store = new Checkpoints(tmp, 3);
        store.write(10, files(10));
        Path crashed = store.root().resolve(".step-00000020.tmp-42");
        Files.createDirectories(crashed);
        Files.writeString(crashed.resolve(TrainerState.FILE), "{\"step\"");
        Path noState = store.root().resolve("step-00000030");
        Files.createDirectories(noState);
        assertEquals(10, store.latest().orElseThrow().step(), "hidden and state-less folders are not checkpoints");
        assertEquals(1, store.removePartial());
        assertFalse(Files.exists(crashed));
    }

    @Test
    void trainerStateRoundTripsExactly() {
        Path file = tmp.resolve(TrainerState.FILE);
        state(42).write(file);
        TrainerState back = TrainerState.read(file);
        assertEquals(42, back.step());
        assertEquals(new DataPosition(2, 17), back.position());
        assertEquals(0xfedcba9876543210L, back.rngState(), "a generator state with the top bit set survives JSON");
        assertEquals(12.5, back.elapsedSeconds());
        assertEquals(100, back.config().get("trainer").get("max_train_steps").asInt());
    }

    @Test
    void aDamagedStateFileIsReportedByField() throws IOException {
        Path file = tmp.resolve(TrainerState.FILE);
        Files.writeString(file, "{\"step\": 3, \"rng_state\": \"xyz\", \"data_position\": {\"epoch\": 0, \"index\": 0}}");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TrainerState.read(file));
        assertTrue(e.getMessage().contains("field 'rng_state' must be 16 hex digits"), e.getMessage());
    }

    /** Hand-edited or foreign checkpoints: user errors naming the file or the data, never a library exception. */
    @Test
    void impossibleSavedPositionsAreUserErrors() throws IOException {
        Path file = tmp.resolve(TrainerState.FILE);
        Files.writeString(file, "{\"step\": 3, \"rng_state\": \"0123456789abcdef\","
                + " \"data_position\": {\"epoch\": -1, \"index\": 0}}");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TrainerState.read(file));
        assertTrue(e.getMessage().contains("field 'data_position'"), e.getMessage());
        // a checkpoint of a larger data set, or an epoch past int
        MdxException far = assertThrows(MdxException.class, () -> new DataPosition(0, 11).take(new int[10], 1, 2));
        assertTrue(far.getMessage().contains("(epoch 0, item 11) lies past the 10 items"), far.getMessage());
        assertThrows(MdxException.class, () -> new DataPosition(1L << 40, 0).take(new int[10], 1, 2));
        assertEquals(new DataPosition(1, 2), new DataPosition(0, 10).take(new int[10], 1, 2).next(),
                "the end of an epoch is a position, not an error");
        // a step number longer than a long is no checkpoint, not a NumberFormatException
        Checkpoints store = new Checkpoints(tmp.resolve("run"), 2);
        Path huge = store.root().resolve("step-99999999999999999999");
        Files.createDirectories(huge);
        Files.writeString(huge.resolve(TrainerState.FILE), "{}");
        assertEquals(List.of(), store.list());
    }
}
