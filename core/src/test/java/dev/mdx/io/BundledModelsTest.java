package dev.mdx.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundledModelsTest {
    @TempDir
    Path home;

    private String savedHome;

    @BeforeEach
    void pointHomeAtTemp() throws Exception {
        savedHome = System.getProperty("mdx.home");
        System.setProperty("mdx.home", home.toString());
        for (String name : List.of("fashion", "emoji")) {
            Files.createDirectories(home.resolve("models").resolve(name));
            Files.writeString(home.resolve("models").resolve(name).resolve("model_index.json"), "{}");
        }
        Files.createDirectories(home.resolve("models/notes"));
    }

    @AfterEach
    void restoreHome() {
        if (savedHome == null) {
            System.clearProperty("mdx.home");
        } else {
            System.setProperty("mdx.home", savedHome);
        }
    }

    @Test
    void namesAreTheFoldersWithAModelIndex() {
        assertEquals(List.of("emoji", "fashion"), BundledModels.names());
    }

    @Test
    void nullIsTheDefaultAndANameIsItsFolder() {
        assertEquals(home.resolve("models/emoji"), BundledModels.resolve(null));
        assertEquals(home.resolve("models/fashion"), BundledModels.resolve("fashion"));
    }

    @Test
    void anExistingFolderWinsOverANameAndNeedsNoHome() throws Exception {
        Path folder = Files.createDirectories(home.resolve("elsewhere/my-model"));
        assertEquals(folder, BundledModels.resolve(folder.toString()));
    }

    @Test
    void anUnknownNameListsTheBundledModels() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> BundledModels.resolve("notes"));
        assertTrue(e.getMessage().contains("'notes' is neither a folder nor a bundled model; bundled models: emoji, "
                + "fashion"), e.getMessage());
    }
}
