package dev.mdx.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelIndexTest {
    @TempDir
    Path dir;

    private ModelIndex read(String json) throws Exception {
        Files.writeString(dir.resolve(ModelIndex.FILE), json);
        return ModelIndex.read(dir);
    }

    @Test
    void readsDiffusersAndMdxKeys() throws Exception {
        ModelIndex index = read("{\"_class_name\": \"StableDiffusionPipeline\", \"scheduler\": [\"diffusers\","
                + " \"DDIMScheduler\"], \"safety_checker\": [null, null], \"requires_safety_checker\": true,"
                + " \"_mdx_student_steps\": 8, \"_mdx_needs_cfg\": false, \"_mdx_guidance_range\": [2, 6.5],"
                + " \"_mdx_component_dirs\": {\"vae\": \"vae_light\", \"tokenizer\": \"../shared/tok\"}}");
        assertEquals(Optional.of("DDIMScheduler"), index.schedulerClass());
        assertEquals(8, index.studentSteps().getAsInt());
        assertEquals(Optional.of(false), index.needsCfg());
        assertEquals(new ModelIndex.GuidanceRange(2, 6.5), index.guidanceRange().orElseThrow());
        assertEquals(dir.resolve("vae_light"), index.dir(ModelIndex.VAE));
        assertEquals(dir.getParent().resolve("shared/tok"), index.dir(ModelIndex.TOKENIZER));
        assertEquals(dir.resolve("unet"), index.dir(ModelIndex.UNET), "unmapped components in their own folder");
    }

    @Test
    void aFolderWithoutTheFileHasDefaults() {
        ModelIndex index = ModelIndex.read(dir);
        assertTrue(index.schedulerClass().isEmpty() && index.studentSteps().isEmpty() && index.students().isEmpty());
        assertEquals(dir.resolve("text_encoder"), index.dir(ModelIndex.TEXT_ENCODER));
    }

    @Test
    void wrongJsonTypesAreErrorsNamingTheKey() throws Exception {
        for (String[] c : List.of(
                new String[] {"{\"_mdx_student_steps\": \"8\"}", "_mdx_student_steps must be a positive whole number,"
                        + " got \"8\""},
                new String[] {"{\"_mdx_student_steps\": 2.5}", "_mdx_student_steps must be a positive whole number"},
                new String[] {"{\"_mdx_student_steps\": 0}", "_mdx_student_steps must be a positive whole number"},
                new String[] {"{\"_mdx_needs_cfg\": \"yes\"}", "_mdx_needs_cfg must be true or false"},
                new String[] {"{\"_mdx_guidance_range\": [6, 2]}", "_mdx_guidance_range must be [min, max] with 1 <="
                        + " min <= max, got [6,2]"},
                new String[] {"{\"_mdx_guidance_range\": 3}", "_mdx_guidance_range must be [min, max]"},
                new String[] {"{\"_mdx_component_dirs\": [\"vae\"]}", "_mdx_component_dirs must be an object"},
                new String[] {"{\"_mdx_component_dirs\": {\"vae\": 3}}", "_mdx_component_dirs.vae must be a folder"
                        + " path, got 3"},
                new String[] {"{\"_mdx_component_dirs\": {\"vea\": \"x\"}}", "_mdx_component_dirs names unknown"
                        + " component(s) vea"},
                new String[] {"{\"scheduler\": \"DDIMScheduler\"}", "scheduler must be [library, class name]"})) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> read(c[0]), c[0]);
            assertTrue(e.getMessage().startsWith(dir.resolve(ModelIndex.FILE) + ": "), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void studentsAreReadWithTheBaseByFolderName() throws Exception {
        for (String name : List.of("ufogen", "distill-8")) {
            Path s = Files.createDirectories(dir.resolve("students").resolve(name));
            Files.writeString(s.resolve(ModelIndex.FILE), "{\"_mdx_student_steps\": " + (name.equals("ufogen") ? 1 : 8)
                    + "}");
        }
        Files.createDirectories(dir.resolve("students/empty"));
        ModelIndex index = ModelIndex.read(dir);
        assertEquals(List.of("distill-8", "ufogen"), index.students().stream().map(ModelIndex::name).toList());
        assertEquals(8, index.students().get(0).studentSteps().getAsInt());
        assertTrue(index.students().get(0).students().isEmpty(), "a student's own students are not read");
    }
}
