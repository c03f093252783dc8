package dev.mdx.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.nn.Probe;
import dev.mdx.testing.Golden;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** AutoencoderKL against every golden folder whose config names AutoencoderKL: outputs and every hook tensor. */
class VaeGoldenParityTest {
    private static final String DEBUG = "debug.";
    /** Outputs without a row in tolerances.json (posterior_std) are held to the posterior's 1e-5. */
    private static final double OUTPUT_FALLBACK_ATOL = 1e-5;
    /** Intermediates are held to the decoded image's tolerance: they are as deep in the network as it is. */
    private static final double DEBUG_FALLBACK_ATOL = 5e-5;

    @Test
    void matchesDiffusersEncodeAndDecode() {
        List<Path> dirs = Golden.componentDirs("AutoencoderKL");
        assertFalse(dirs.isEmpty(), "no AutoencoderKL golden folder under " + Golden.root());
        for (Path dir : dirs) {
            check(dir);
        }
    }

    private static void check(Path dir) {
        Path io = dir.resolve("io.safetensors");
        try (NDManager weights = NDManager.newBaseManager();
                NDManager scope = weights.newSubManager();
                SafeTensorsFile golden = SafeTensorsFile.open(io)) {
            AutoencoderKL vae = AutoencoderKL.load(dir, weights);
            Map<String, NDArray> captured = new LinkedHashMap<>();

            LatentDistribution posterior = vae.encode(golden.load("image", scope), Probe.into(captured));
            compare(golden, io, "posterior_mean", posterior.mean(), scope);
            compare(golden, io, "posterior_logvar", posterior.logvar(), scope);
            compare(golden, io, "posterior_std", posterior.std(), scope);

            NDArray decoded = vae.decode(golden.load("latent", scope), Probe.into(captured));
            compare(golden, io, "decoded", decoded, scope);

            TreeSet<String> expectedDebug = golden.tensors().keySet().stream()
                    .filter(k -> k.startsWith(DEBUG)).collect(Collectors.toCollection(TreeSet::new));
            assertFalse(expectedDebug.isEmpty(), io + " has no debug tensors");
            for (String key : expectedDebug) {
                String name = key.substring(DEBUG.length());
                assertTrue(captured.containsKey(name), "forward pass never produced " + name + " (" + io + ")");
                compare(golden, io, key, captured.get(name), scope);
            }
            assertEquals(vae.config().scalingFactor(), vae.scalingFactor());
        }
    }

    /** The decode step of the end-to-end pipeline golden: decoder_input (latents / scaling_factor) to decoded. */
    @Test
    void decodesThePipelinesFinalLatents() {
        Path io = Golden.root().resolve("pipeline/io.safetensors");
        Path dir = Golden.pipelineComponent("vae");
        try (NDManager weights = NDManager.newBaseManager();
                NDManager scope = weights.newSubManager();
                SafeTensorsFile golden = SafeTensorsFile.open(io)) {
            AutoencoderKL vae = AutoencoderKL.load(dir, weights);
            compare(golden, io, "decoded", vae.decode(golden.load("decoder_input", scope)), scope);
        }
    }

    private static void compare(SafeTensorsFile golden, Path io, String name, NDArray actual, NDManager scope) {
        double atol = Golden.tolerance(io, name, name.startsWith(DEBUG) ? DEBUG_FALLBACK_ATOL : OUTPUT_FALLBACK_ATOL);
        Golden.assertClose(golden.load(name, scope), actual, atol, Golden.root().relativize(io) + " " + name);
    }
}
