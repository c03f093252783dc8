package dev.mdx.cli;

import dev.mdx.io.DType;
import dev.mdx.io.SafeTensorsConverter;
import dev.mdx.io.SafeTensorsConverter.FileReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Rewrites the weights of a safetensors file or a whole model folder in fp16 or fp32. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Rewrite safetensors weights in another float type: fp16 halves a model's size (mdx computes in "
                + "fp32 either way). IN is a .safetensors file or a folder (a pipeline or one component); a folder is "
                + "copied with every .safetensors file converted. Integer tensors and metadata are kept."},
        footer = {"", "Examples:", "  mdx convert runs/clip/text_encoder models/mine/text_encoder",
            "  mdx convert model.safetensors model-fp32.safetensors --type f32"})
public final class ConvertCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN", description = "A .safetensors file or a folder.")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "Where to write (a file for a file, a folder for a folder).")
    Path out;

    @Option(names = "--type", defaultValue = "f16", paramLabel = "TYPE",
            description = "f16 or f32. Default: ${DEFAULT-VALUE}.")
    String type;

    @Override
    public void run() {
        DType target = switch (type.toLowerCase(Locale.ROOT)) {
            case "f16", "fp16", "float16" -> DType.F16;
            case "f32", "fp32", "float32" -> DType.F32;
            default -> throw new UsageException("--type must be f16 or f32, got '" + type + "'");
        };
        PrintWriter stdout = spec.commandLine().getOut();
        List<FileReport> reports = SafeTensorsConverter.convert(in, out, target);
        long before = 0;
        long after = 0;
        for (FileReport r : reports) {
            stdout.printf(Locale.ROOT, "%s: %d tensors, %d converted to %s, %.1f MB -> %.1f MB%n", r.file(),
                    r.tensors(), r.converted(), target, r.bytesBefore() / 1e6, r.bytesAfter() / 1e6);
            before += r.bytesBefore();
            after += r.bytesAfter();
        }
        stdout.printf(Locale.ROOT, "wrote %s (%.1f MB -> %.1f MB)%n", out, before / 1e6, after / 1e6);
    }
}
