package dev.mdx.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.inspect.AdapterCost;
import dev.mdx.inspect.ComponentCost;
import dev.mdx.inspect.ModelCost;
import dev.mdx.inspect.PartCost;
import dev.mdx.inspect.UNetAblation;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.models.ModelConfigs;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Parameters and analytic FLOPs per component and block kind, from configs alone (no weights are read). */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Parameters per component (UNet, text encoder, VAE encoder/decoder) and per block kind, and "
                + "FLOPs of one forward pass at a resolution, computed from the configs (no weights are loaded).",
            "FLOPs count 2 per multiply-add of convolutions, linear layers and attention matmuls."})
public final class InspectCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL_DIR_OR_PRESET",
            description = "A diffusers pipeline folder, a component folder with a config.json, or a preset name.")
    String model;

    @Option(names = "--ablation", description = "Instead of a model: the parameter and FLOP change of each "
            + "MobileDiffusion architecture change (T1-T6, C1-C2) alone on an SD-1.5-like UNet at the paper's widths.")
    boolean ablation;

    @Option(names = "--resolution", defaultValue = "512", paramLabel = "PX",
            description = "Image side in pixels; the UNet runs at PX / (VAE factor). Default: ${DEFAULT-VALUE}.")
    int resolution;

    @Option(names = "--batch", defaultValue = "1", paramLabel = "B",
            description = "Images per forward (2 = a classifier-free-guidance step). Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON.")
    Path json;

    @Override
    public void run() {
        if (resolution < 1 || batch < 1) {
            throw new UsageException("--resolution and --batch must be >= 1");
        }
        if (ablation) {
            if (model != null) {
                throw new UsageException("--ablation takes no model");
            }
            if (resolution % ModelCost.DEFAULT_VAE_FACTOR != 0) {
                throw new UsageException("--resolution must be a multiple of 8 for the ablation (8x VAE)");
            }
            List<UNetAblation.Row> rows = UNetAblation.rows(resolution / ModelCost.DEFAULT_VAE_FACTOR);
            printAblation(rows, resolution, spec.commandLine().getOut());
            if (json != null) {
                write(ablationJson(rows, resolution));
                spec.commandLine().getOut().println("wrote " + json);
            }
            return;
        }
        if (model == null) {
            throw new UsageException("give a model folder or preset (or --ablation)");
        }
        ModelConfigs configs = ModelConfigs.resolve(model);
        ModelCost cost;
        try {
            cost = ModelCost.of(configs, resolution, batch);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        print(cost, out);
        Path dir = Path.of(model);
        if (Files.isDirectory(dir)) {
            printAdapters(AdapterCost.of(dir, cost), out);
        }
        if (json != null) {
            write(cost.toJsonNode());
            out.println("wrote " + json);
        }
    }

    static void printAblation(List<UNetAblation.Row> rows, int resolution, PrintWriter out) {
        ComponentCost base = rows.get(0).cost();
        int latent = resolution / ModelCost.DEFAULT_VAE_FACTOR;
        out.printf("UNet architecture ablation (analytic; FLOPs of one forward at %dx%d latent = %dx%d image, batch 1)"
                + "%n%n", latent, latent, resolution, resolution);
        out.println("| id | change | params (M) | params vs baseline | GFLOP | FLOPs vs baseline | paper reports |");
        out.println("|---|---|---:|---:|---:|---:|---|");
        for (UNetAblation.Row r : rows) {
            ComponentCost c = r.cost();
            out.printf("| %s | %s | %.1f | %s | %.1f | %s | %s |%n", r.id(), r.change(), c.params() / 1e6,
                    r.id().equals("baseline") ? "" : change(c.params(), base.params()), c.flops() / 1e9,
                    r.id().equals("baseline") ? "" : change(c.flops(), base.flops()), r.reported());
        }
        out.flush();
    }

    private static String change(long value, long base) {
        return String.format("%+.1f%%", 100.0 * (value - base) / base);
    }

    private static ObjectNode ablationJson(List<UNetAblation.Row> rows, int resolution) {
        ObjectNode doc = JsonConfig.MAPPER.createObjectNode();
        doc.put("resolution", resolution);
        doc.put("baseline_config", UNetAblation.BASELINE);
        ArrayNode list = doc.putArray("rows");
        for (UNetAblation.Row r : rows) {
            ObjectNode n = list.addObject();
            n.put("id", r.id());
            n.put("change", r.change());
            n.put("params", r.cost().params());
            n.put("flops", r.cost().flops());
            n.put("reported", r.reported());
            n.set("config", r.config().toJsonNode());
        }
        return doc;
    }

    static void printAdapters(List<AdapterCost> adapters, PrintWriter out) {
        for (AdapterCost a : adapters) {
            out.printf("control adapter %-16s %,15d params (%.1f%% of the UNet)  %10.4f GFLOP once per image (%.1f%% of"
                    + " one UNet forward at batch 1)%n", a.name(), a.params(), 100 * a.paramShare(), a.flops() / 1e9,
                    100 * a.flopShare());
        }
        out.flush();
    }

    static void print(ModelCost cost, PrintWriter out) {
        out.printf("%s at %dx%d (latent %dx%d%s), batch %d%n%n", cost.model(), cost.resolution(), cost.resolution(),
                cost.latent(), cost.latent(), cost.latentFactorAssumed() ? ", assuming an 8x VAE" : "", cost.batch());
        out.printf("| %-20s | %-30s | %14s | %6s | %10s | %10s | %10s | %10s | %6s |%n", "component", "part", "params",
                "%", "GFLOP", "conv", "linear", "attention", "%");
        out.printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|%n", "-".repeat(22), "-".repeat(32), "-".repeat(15) + ":",
                "-".repeat(7) + ":", "-".repeat(11) + ":", "-".repeat(11) + ":", "-".repeat(11) + ":",
                "-".repeat(11) + ":", "-".repeat(7) + ":");
        for (ComponentCost c : cost.components()) {
            for (PartCost p : c.parts()) {
                row(out, c.component(), p.part(), p.params(), c.params(), p.flops(), p.convFlops(), p.linearFlops(),
                        p.attentionFlops(), c.flops());
            }
            row(out, c.component(), "**total**", c.params(), c.params(), c.flops(), c.convFlops(), c.linearFlops(),
                    c.attentionFlops(), c.flops());
        }
        out.println();
        for (ComponentCost c : cost.components()) {
            out.printf("%-20s %,15d params  %10.3f GFLOP  input %s%n", c.component(), c.params(), c.flops() / 1e9,
                    c.input());
        }
        out.flush();
    }

    private static void row(PrintWriter out, String component, String part, long params, long componentParams,
            long flops, long conv, long linear, long attention, long componentFlops) {
        out.printf("| %-20s | %-30s | %,14d | %6s | %10s | %10s | %10s | %10s | %6s |%n", component, part, params,
                percent(params, componentParams), gflop(flops), gflop(conv), gflop(linear), gflop(attention),
                percent(flops, componentFlops));
    }

    private static String gflop(long flops) {
        return String.format("%.3f", flops / 1e9);
    }

    private static String percent(long part, long whole) {
        return whole > 0 ? String.format("%.1f", 100.0 * part / whole) : "";
    }

    private void write(JsonNode doc) {
        try {
            AtomicFiles.writeBytes(json, JsonConfig.MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsBytes(doc));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + json + ": " + e.getMessage(), e);
        }
    }
}
