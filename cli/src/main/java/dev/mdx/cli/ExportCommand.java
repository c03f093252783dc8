package dev.mdx.cli;

import dev.mdx.export.OnnxExport;
import dev.mdx.export.OnnxPrecision;
import dev.mdx.io.BundledModels;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** `mdx export onnx`: parses and delegates to {@link OnnxExport}. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Export a model to a portable format."},
        subcommands = {ExportCommand.Onnx.class})
public final class ExportCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new UsageException("name a format: mdx export onnx MODEL OUT_DIR");
    }

    @Command(name = "onnx", mixinStandardHelpOptions = true,
            description = {"Export MODEL (a bundled model name, a student folder such as models/emoji/students/ufogen, "
                    + "or a diffusers folder) to ONNX graphs (opset 17): text_encoder.onnx, unet.onnx, "
                    + "vae_decoder.onnx, the tokenizer files and model.json (docs/EXPORT.md)."},
            footer = {"", "Examples:", "  mdx export onnx emoji out/emoji-onnx",
                "  mdx export onnx models/emoji/students/ufogen out/emoji-1step --precision fp16"})
    static final class Onnx implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "MODEL", description = "A bundled model name or a pipeline folder.")
        String model;

        @Parameters(index = "1", paramLabel = "OUT_DIR", description = "The folder to write.")
        Path out;

        @Option(names = "--precision", defaultValue = "fp32", paramLabel = "P",
                description = "fp32 or fp16 (weights stored in half precision, arithmetic in fp32). "
                        + "Default: ${DEFAULT-VALUE}.")
        String precision;

        @Override
        public void run() {
            OnnxPrecision p = OnnxPrecision.fromCliName(precision.toLowerCase(Locale.ROOT));
            if (p == null) {
                throw new UsageException("--precision must be fp32 or fp16, got '" + precision + "'");
            }
            OnnxExport.Result r = OnnxExport.export(BundledModels.resolve(model), out, p);
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.printf(Locale.ROOT, "wrote %s: text_encoder %.1f MB, unet %.1f MB, vae_decoder %.1f MB (%s)%n",
                    r.dir(), r.textEncoderBytes() / 1e6, r.unetBytes() / 1e6, r.vaeDecoderBytes() / 1e6,
                    p.cliName());
        }
    }
}
