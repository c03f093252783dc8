package dev.mdx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IconifySetTest {
    @TempDir
    Path tmp;

    @Test
    void normalisesHexcodesAndLabels() {
        assertEquals("1f44b-1f3fd", IconifySet.normalizeHexcode("1F44B-1F3FD"));
        assertEquals("2764", IconifySet.normalizeHexcode("2764-FE0F"));
        assertEquals("1f3f3-200d-1f308", IconifySet.normalizeHexcode("1F3F3-FE0F-200D-1F308"));
        assertEquals("flag-c-te-d-ivoire", IconifySet.slug("flag: Côte d’Ivoire"));
        assertEquals("waving-hand-medium-skin-tone", IconifySet.slug("waving hand: medium skin tone"));
    }

    @Test
    void readsSetFromTarballAndWrapsBodiesAsSvgDocuments() throws IOException {
        Path beta = Fixtures.packages(tmp).fetch("@iconify-json/beta", "2.0.0");
        IconifySet set = IconifySet.read(beta);
        assertEquals("beta", set.prefix());
        assertEquals("2.0.0", set.version());
        assertEquals("CC-BY-4.0", set.license().spdx());
        assertEquals("Beta Team", set.author());
        String svg = set.svg("fox");
        assertTrue(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""), svg);
        assertTrue(svg.contains("viewBox=\"0 0 16 16\""), svg);
        assertTrue(svg.contains("transform=\"translate(16 0) scale(-1 1)\""), svg);
        assertThrows(DatasetException.class, () -> set.svg("missing"));
    }

    @Test
    void namesTheTarballWhenAFileIsMissing() throws IOException {
        Path broken = Fixtures.tgz(tmp.resolve("broken.tgz"), Map.of("icons.json", "{}"));
        DatasetException e = assertThrows(DatasetException.class, () -> IconifySet.read(broken));
        assertTrue(e.getMessage().contains("broken.tgz") && e.getMessage().contains("chars.json"), e.getMessage());
        Path badJson = Fixtures.tgz(tmp.resolve("bad-json.tgz"), Map.of("icons.json", "{\"icons\": {",
                "chars.json", "{}", "info.json", "{}", "package.json", "{}"));
        DatasetException syntax = assertThrows(DatasetException.class, () -> IconifySet.read(badJson));
        assertTrue(syntax.getMessage().contains("icons.json: not valid JSON at line 1, column "), syntax.getMessage());
        ImageDatasetTest.assertNoJacksonSource(syntax);
        Path notGzip = tmp.resolve("plain.tgz");
        Files.writeString(notGzip, "not an archive");
        assertThrows(DatasetException.class, () -> IconifySet.read(notGzip));
    }
}
