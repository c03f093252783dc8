package dev.mdx.train.data;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class EmojibaseTest {
    @Test
    void damagedJsonNamesLineAndColumn() {
        DatasetException e = assertThrows(DatasetException.class,
                () -> Emojibase.parse("data.json", "[{\"label\": ]".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("data.json: not valid JSON at line 1, column "), e.getMessage());
        ImageDatasetTest.assertNoJacksonSource(e);
    }
}
