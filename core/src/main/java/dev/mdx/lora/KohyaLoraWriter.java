package dev.mdx.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.DType;
import dev.mdx.io.SafeTensorsWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes LoRAs in kohya-ss / A1111's format, the one every engine loads: per layer
 * {@code lora_unet_<path with _>.lora_down.weight} (rank, in) or (rank, in / groups, k, k), {@code .lora_up.weight}
 * (out, rank) or (out, rank, 1, 1) and a 0-dim float32 {@code .alpha} (the factor is alpha / rank); text-encoder
 * layers under {@code lora_te_}.
 */
public final class KohyaLoraWriter {
    /** One layer of the file; the arrays are written in their own dtype. */
    public record Layer(LoraPart part, String path, NDArray down, NDArray up, float alpha) {}

    private KohyaLoraWriter() {}

    /** The common start of a layer's keys: {@code lora_unet_down_blocks_0_..._to_q}. */
    public static String prefix(LoraPart part, String path) {
        return part.kohyaPrefix() + LoraTargets.kohyaName(path);
    }

    public static void write(Path file, List<Layer> layers, Map<String, String> metadata) {
        Map<String, SafeTensorsWriter.RawTensor> tensors = new LinkedHashMap<>();
        for (Layer l : layers) {
            String p = prefix(l.part(), l.path());
            tensors.put(p + ".lora_down.weight", SafeTensorsWriter.RawTensor.of(l.down()));
            tensors.put(p + ".lora_up.weight", SafeTensorsWriter.RawTensor.of(l.up()));
            ByteBuffer alpha = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, l.alpha());
            tensors.put(p + ".alpha", new SafeTensorsWriter.RawTensor(DType.F32, new Shape(), alpha));
        }
        SafeTensorsWriter.writeRaw(file, tensors, metadata);
    }
}
