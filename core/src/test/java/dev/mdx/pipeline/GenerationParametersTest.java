package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.io.JsonConfig;
import dev.mdx.io.PngWriter;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.tensor.Precision;
import java.io.ByteArrayInputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The "parameters" text as the AUTOMATIC1111 web UI reads it back from a PNG (its parse_generation_parameters,
 * ported below): whatever a prompt holds, the prompt, the negative prompt and the settings come back as written.
 */
class GenerationParametersTest {
    private static GenerationParameters params(String prompt, String negative, String model) {
        return new GenerationParameters(prompt, negative, 20, 7.5, 42, 64, 48, 1, SamplerKind.DDIM, "DDIM", 0, model);
    }

    @Test
    void aPromptCannotPoseAsTheNegativePromptOrTheSettings() throws Exception {
        String prompt = "a cat\nNegative prompt: ugly\r\nSteps: 1, Sampler: Euler, CFG scale: 1, Seed: 5, Size: 8x8,"
                + " Model: evil\u2028last";
        String negative = "blurry\nSteps: 2, Sampler: Euler, CFG scale: 1, Seed: 6, Size: 8x8, Model: evil";
        Map<String, String> read = a1111Parse(roundTrip(params(prompt, negative, "mine").infotext(0)));
        assertEquals("a cat Negative prompt: ugly Steps: 1, Sampler: Euler, CFG scale: 1, Seed: 5, Size: 8x8, "
                + "Model: evil last", read.get("Prompt"), "line breaks are written as spaces");
        assertEquals("blurry Steps: 2, Sampler: Euler, CFG scale: 1, Seed: 6, Size: 8x8, Model: evil",
                read.get("Negative prompt"));
        assertEquals("20", read.get("Steps"));
        assertEquals("42", read.get("Seed"));
        assertEquals("mine", read.get("Model"));
    }

    /** CLIP lower-cases prompts, so writing the marker's first letter in lower case changes nothing it reads. */
    @Test
    void aPromptStartingWithTheNegativeMarkerStaysThePrompt() throws Exception {
        Map<String, String> read = a1111Parse(roundTrip(params(" Negative prompt: a dog", "", "m").infotext(0)));
        assertEquals("negative prompt: a dog", read.get("Prompt"));
        assertEquals("", read.get("Negative prompt"));
    }

    @Test
    void aModelNameWithCommasOrColonsIsQuotedAsTheWebUiQuotesIt() throws Exception {
        String model = "my, model: v2 \"final\"";
        String text = params("a fox", "", model).infotext(0);
        assertTrue(text.endsWith(", Model: " + JsonConfig.MAPPER.writeValueAsString(model)), text);
        Map<String, String> read = a1111Parse(roundTrip(text));
        assertEquals(model, read.get("Model"));
        assertEquals("64x48", read.get("Size"));
    }

    /** NUL and other control characters, which CLIP drops and a PNG text chunk cannot hold, are left out. */
    /** A control adapter's settings and a bf16 run read back as their own keys; fp32 and no control write nothing. */
    @Test
    void controlAndBf16AreWrittenAsTheirOwnSettings() throws Exception {
        GenerationParameters plain = params("a fox", "", "m");
        assertFalse(plain.infotext(0).contains("ControlNet"), plain.infotext(0));
        assertFalse(plain.infotext(0).contains("Precision"), plain.infotext(0));
        GenerationParameters p = new GenerationParameters("a fox", "", 20, 7.5, 42, 64, 48, 1, SamplerKind.DDIM,
                "DDIM", 0, "m", null, List.of(), 1, "Module: canny, Model: canny, Weight: 1.5", Precision.BF16);
        Map<String, String> read = a1111Parse(roundTrip(p.infotext(0)));
        assertEquals("Module: canny, Model: canny, Weight: 1.5", read.get("ControlNet 0"));
        assertEquals("bf16", read.get("Precision"));
        assertEquals("m", read.get("Model"));
    }

    @Test
    void controlCharactersAreLeftOut() throws Exception {
        String text = params("a\u0000b\u0007c\td", "x\u0000y", "m").infotext(0);
        assertFalse(text.chars().anyMatch(c -> c < 0x20 && c != '\n' && c != '\t'), text);
        Map<String, String> read = a1111Parse(roundTrip(text));
        assertEquals("abc\td", read.get("Prompt"));
        assertEquals("xy", read.get("Negative prompt"));
    }

    /** Writes the text into a PNG and reads it back with javax.imageio's PNG reader (tEXt or iTXt). */
    static String roundTrip(String text) throws Exception {
        byte[] png = PngWriter.encode(new byte[3], 1, 1, Map.of("parameters", text));
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
            reader.setInput(in);
            Element root = (Element) reader.getImageMetadata(0).getAsTree("javax_imageio_png_1.0");
            for (String[] kind : new String[][] {{"tEXtEntry", "value"}, {"iTXtEntry", "text"}}) {
                NodeList entries = root.getElementsByTagName(kind[0]);
                for (int i = 0; i < entries.getLength(); i++) {
                    Element e = (Element) entries.item(i);
                    if (e.getAttribute("keyword").equals("parameters")) {
                        return e.getAttribute(kind[1]);
                    }
                }
            }
        }
        throw new AssertionError("no parameters text in the PNG");
    }

    /** The web UI's modules/infotext_utils.py re_param_code. */
    private static final Pattern PARAM = Pattern.compile("\\s*([\\w ]+):\\s*(\"(?:\\\\.|[^\\\\\"])+\"|[^,]*)(?:,|$)");

    /** A port of the web UI's parse_generation_parameters (prompt, negative prompt and the settings line). */
    static Map<String, String> a1111Parse(String x) throws Exception {
        Map<String, String> res = new LinkedHashMap<>();
        String[] lines = x.strip().split("\n", -1);
        String lastline = lines[lines.length - 1];
        int promptLines = lines.length - 1;
        Matcher m = PARAM.matcher(lastline);
        int found = 0;
        while (m.find()) {
            found += m.group().isEmpty() ? 0 : 1;
        }
        if (found < 3) {
            promptLines = lines.length;
            lastline = "";
        }
        StringBuilder prompt = new StringBuilder();
        StringBuilder negative = new StringBuilder();
        boolean doneWithPrompt = false;
        for (int i = 0; i < promptLines; i++) {
            String line = lines[i].strip();
            if (line.startsWith("Negative prompt:")) {
                doneWithPrompt = true;
                line = line.substring(16).strip();
            }
            StringBuilder target = doneWithPrompt ? negative : prompt;
            target.append(target.length() == 0 ? "" : "\n").append(line);
        }
        res.put("Prompt", prompt.toString());
        res.put("Negative prompt", negative.toString());
        Matcher p = PARAM.matcher(lastline);
        while (p.find()) {
            if (p.group().isEmpty()) {
                continue;
            }
            String v = p.group(2);
            if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                v = JsonConfig.MAPPER.readValue(v, String.class);
            }
            res.put(p.group(1), v);
        }
        return res;
    }
}
