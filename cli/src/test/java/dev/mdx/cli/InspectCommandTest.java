package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
    @TempDir
    Path dir;

    @Test
    void presetTableAndJson() throws Exception {
        Path json = dir.resolve("sd15.json");
        CliRun r = CliRun.mdx("inspect", "sd15", "--json", json.toString());
        assertEquals(ExitCodes.OK, r.code(), r.err());
        assertTrue(r.out().contains("sd15 at 512x512 (latent 64x64), batch 1"), r.out());
        assertTrue(r.out().contains("859,520,964"), "SD-1.5 UNet total in the table:\n" + r.out());
        assertTrue(r.out().contains("| vae decoder (light)"), r.out());
        JsonNode doc = JsonConfig.MAPPER.readTree(Files.readString(json));
        JsonNode unet = null;
        for (JsonNode c : doc.get("components")) {
            if (c.get("component").asText().equals("unet")) {
                unet = c;
            }
        }
        assertEquals(859_520_964L, unet.get("params").asLong());
        long sum = 0;
        for (JsonNode p : unet.get("parts")) {
            sum += p.get("flops").asLong();
        }
        assertEquals(unet.get("flops").asLong(), sum);
        assertTrue(unet.get("attention_flops").asLong() > 0);
        assertEquals(unet.get("flops").asLong(), unet.get("conv_flops").asLong() + unet.get("linear_flops").asLong()
                + unet.get("attention_flops").asLong());
    }

    @Test
    void pipelineFolderAndComponentFolder() {
        Path golden = Path.of(System.getProperty("mdx.golden"));
        CliRun pipeline = CliRun.mdx("inspect", golden.toString(), "--resolution", "64");
        assertEquals(ExitCodes.OK, pipeline.code(), pipeline.err());
        for (String component : new String[] {"| text encoder", "| unet", "| vae encoder", "| vae decoder"}) {
            assertTrue(pipeline.out().contains(component), component + " missing:\n" + pipeline.out());
        }
        CliRun unetOnly = CliRun.mdx("inspect", golden.resolve("unet").toString());
        assertEquals(ExitCodes.OK, unetOnly.code(), unetOnly.err());
        assertTrue(unetOnly.out().contains("assuming an 8x VAE"), unetOnly.out());
        assertFalse(unetOnly.out().contains("| vae"), unetOnly.out());
    }

    @Test
    void ablationTable() throws Exception {
        Path json = dir.resolve("ablation.json");
        CliRun r = CliRun.mdx("inspect", "--ablation", "--json", json.toString());
        assertEquals(ExitCodes.OK, r.code(), r.err());
        for (String id : new String[] {"baseline", "T1", "T2", "T3", "T4", "T5", "T6", "C1", "C2", "all"}) {
            assertTrue(r.out().contains("| " + id + " |"), id + " missing:\n" + r.out());
        }
        assertTrue(r.out().contains("| 391.2 |"), "all changes = the mobilediffusion preset:\n" + r.out());
        assertEquals(10, JsonConfig.MAPPER.readTree(Files.readString(json)).get("rows").size());
        assertEquals(ExitCodes.USAGE, CliRun.mdx("inspect", "--ablation", "sd15").code());
        assertEquals(ExitCodes.USAGE, CliRun.mdx("inspect").code());
    }

    @Test
    void badInputsAreOneClearLine() {
        CliRun unknown = CliRun.mdx("inspect", "no-such-model");
        assertEquals(ExitCodes.FAILURE, unknown.code());
        assertTrue(unknown.err().contains("neither a model folder nor a preset"), unknown.err());
        assertFalse(unknown.err().contains("\tat "), unknown.err());
        CliRun odd = CliRun.mdx("inspect", "sd15", "--resolution", "100");
        assertEquals(ExitCodes.USAGE, odd.code());
        assertTrue(odd.err().contains("multiple of the VAE's downsampling factor 8"), odd.err());
    }
}
