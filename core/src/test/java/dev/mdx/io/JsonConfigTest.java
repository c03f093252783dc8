package dev.mdx.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.schedule.ScheduleConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A malformed JSON file is reported as its file, line, column and problem, without Jackson's source text. */
class JsonConfigTest {
    @TempDir
    Path dir;

    @Test
    void syntaxErrorNamesFileLineAndColumnOnly() throws IOException {
        Path file = Files.writeString(dir.resolve("model_index.json"), "{\n  \"unet\": [\"diffusers\", \"U\"],\n}\n");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> JsonConfig.read(file));
        assertEquals(file + ": not valid JSON at line 3, column 1: Unexpected character ('}' (code 125)): was "
                + "expecting double-quote to start field name", e.getMessage());
    }

    @Test
    void everyReaderOfJsonFilesKeepsJacksonsSourceTextOut() throws IOException {
        // end of input: Jackson nests a second location ("start marker at [Source: ...]") in its own message
        String[] broken = {"{\"a\": [1, 2", "{\"a\": tru}", "{\"a\": 1} {", "\u0000", "{\"a\": \"x\u0001\"}"};
        for (int i = 0; i < broken.length; i++) {
            Path file = Files.writeString(dir.resolve("config" + i + ".json"), broken[i]);
            assertClean(file, assertThrows(ModelFormatException.class, () -> JsonConfig.read(file)));
            assertClean(file, assertThrows(ModelFormatException.class, () -> ScheduleConfig.read(file)));
            String source = file.toString();
            String json = broken[i];
            assertClean(file, assertThrows(ModelFormatException.class, () -> JsonConfig.parse(source, json)));
        }
    }

    @Test
    void bytesThatAreNotUtf8AreSaidToBeSo() throws IOException {
        Path file = Files.write(dir.resolve("config.json"), new byte[] {'{', '"', (byte) 0xff, '"', ':', '1', '}'});
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> JsonConfig.read(file));
        assertEquals(file + ": not UTF-8 text", e.getMessage());
    }

    private static void assertClean(Path file, ModelFormatException e) {
        String m = e.getMessage();
        assertTrue(m.startsWith(file + ": not valid JSON at line "), m);
        assertTrue(m.matches("[^\\n]*line \\d+, column \\d+: [^\\n]+"), m);
        for (String leak : new String[] {"Source", "REDACTED", "Feature", "fasterxml", "[", "\n"}) {
            assertFalse(m.substring(file.toString().length()).contains(leak), "'" + leak + "' in: " + m);
        }
    }
}
