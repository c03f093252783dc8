package dev.mdx.io;

import ai.djl.ndarray.NDManager;
import dev.mdx.io.SafeTensorsWriter.RawTensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Rewrites safetensors weights in another floating-point type (fp16 to halve a model's size, fp32 to widen it).
 * Integer and boolean tensors are copied unchanged; metadata is kept. A folder is converted file by file into a
 * copy of its tree (configs and tokenizer files are copied as they are).
 */
public final class SafeTensorsConverter {
    /** What one converted file held. */
    public record FileReport(Path file, int tensors, int converted, long bytesBefore, long bytesAfter) {}

    private SafeTensorsConverter() {}

    /** Converts {@code in} (a .safetensors file or a folder) to {@code out}; returns one report per weights file. */
    public static List<FileReport> convert(Path in, Path out, DType target) {
        if (target != DType.F16 && target != DType.F32) {
            throw new IllegalArgumentException("target must be F16 or F32, got " + target);
        }
        if (!Files.exists(in)) {
            throw new ModelFormatException(in + " does not exist");
        }
        if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new ModelFormatException("the output must differ from the input (" + in + ")");
        }
        if (!Files.isDirectory(in)) {
            return List.of(convertFile(in, out, target));
        }
        List<FileReport> reports = new ArrayList<>();
        for (Path source : tree(in)) {
            Path dest = out.resolve(in.relativize(source).toString());
            if (source.getFileName().toString().endsWith(".safetensors")) {
                reports.add(convertFile(source, dest, target));
            } else {
                copy(source, dest);
            }
        }
        if (reports.isEmpty()) {
            throw new ModelFormatException(in + " holds no .safetensors files");
        }
        return reports;
    }

    private static FileReport convertFile(Path in, Path out, DType target) {
        try (SafeTensorsFile st = SafeTensorsFile.open(in); NDManager scope = NDManager.newBaseManager()) {
            Map<String, RawTensor> tensors = new LinkedHashMap<>();
            int converted = 0;
            for (Map.Entry<String, TensorInfo> e : st.tensors().entrySet()) {
                TensorInfo info = e.getValue();
                boolean change = info.dtype().floating() && info.dtype() != target;
                // unchanged tensors are copied as bytes: the engine cannot hold every dtype (I16, BF16)
                tensors.put(e.getKey(), change ? RawTensor.of(st.load(e.getKey(), scope, target.djl()))
                        : new RawTensor(info.dtype(), info.shape(), st.bytes(e.getKey())));
                converted += change ? 1 : 0;
            }
            SafeTensorsWriter.writeRaw(out, tensors, st.metadata());
            return new FileReport(in, tensors.size(), converted, size(in), size(out));
        }
    }

    private static List<Path> tree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private static void copy(Path source, Path dest) {
        try {
            Files.createDirectories(dest.getParent());
            Files.copy(source, dest, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + source + " to " + dest, e);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + file, e);
        }
    }
}
