package dev.mdx.inspect;

import dev.mdx.control.AdapterConfig;
import dev.mdx.control.ControlAdapter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The size of a control adapter beside its UNet's: parameters, and the FLOPs of its one forward pass per image
 * against one UNet forward (the adapter reads only the condition map, so it runs once per image while the UNet
 * runs once per step).
 *
 * @param name the adapter's file name
 * @param condition what it reads
 * @param params its parameters
 * @param flops its forward pass on one map at the report's resolution
 * @param unetParams the UNet's parameters
 * @param unetFlops one UNet forward at the report's resolution and batch 1
 */
public record AdapterCost(String name, String condition, long params, long flops, long unetParams, long unetFlops) {
    /** Parameter share of the UNet. */
    public double paramShare() {
        return (double) params / unetParams;
    }

    /** FLOP share of one UNet forward at batch 1. */
    public double flopShare() {
        return (double) flops / unetFlops;
    }

    /**
     * The adapters in {@code modelDir/adapters/} (none when the folder has none), each against the UNet of
     * {@code cost} (a report at batch 1 or more: the UNet's FLOPs are divided by the batch).
     */
    public static List<AdapterCost> of(Path modelDir, ModelCost cost) {
        Path dir = modelDir.resolve("adapters");
        ComponentCost unet = cost.component("unet");
        if (unet == null || !Files.isDirectory(dir)) {
            return List.of();
        }
        List<AdapterCost> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList()) {
                AdapterConfig config = ControlAdapter.readConfig(f);
                ControlAdapter adapter = new ControlAdapter(config);
                out.add(new AdapterCost(f.getFileName().toString(), config.condition().cliName(),
                        adapter.parameterCount(), adapter.flops(cost.resolution(), cost.resolution()), unet.params(),
                        unet.flops() / cost.batch()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }
}
