package dev.mdx.prompt;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.TensorInfo;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A textual-inversion embedding: n learned vectors of the text encoder's width that stand in for n token
 * embeddings where the prompt writes the embedding's name (its file name, as A1111 names them). Read from
 * safetensors only: A1111's ({@code emb_params}, [n, dim]) or diffusers' {@code learned_embeds.safetensors}
 * (one tensor under the token it was trained for, [dim] or [n, dim]).
 *
 * @param vectors n rows of the text encoder's width
 */
public record TextualInversion(String name, Path file, float[][] vectors) {
    /** A1111's key for the vectors. */
    static final String A1111_KEY = "emb_params";

    public int count() {
        return vectors.length;
    }

    public int width() {
        return vectors[0].length;
    }

    /**
     * Reads the embedding {@code name} from {@code file}.
     *
     * @throws ModelFormatException for a file that holds no embedding mdx can use (an SDXL pair, several tensors, a
     *     tensor of another rank)
     */
    public static TextualInversion read(String name, Path file) {
        try (SafeTensorsFile st = SafeTensorsFile.open(file); NDManager scratch = NDManager.newBaseManager()) {
            Map<String, TensorInfo> tensors = st.tensors();
            String key;
            if (tensors.containsKey(A1111_KEY)) {
                key = A1111_KEY;
            } else if (tensors.containsKey("clip_l") || tensors.containsKey("clip_g")) {
                throw new ModelFormatException("embedding " + file + ": an SDXL embedding (clip_l and clip_g vectors"
                        + " for two text encoders); mdx's models have one text encoder");
            } else if (tensors.size() == 1) {
                key = tensors.keySet().iterator().next();
            } else {
                throw new ModelFormatException("embedding " + file + ": expected A1111's '" + A1111_KEY + "' or one"
                        + " tensor (diffusers' learned_embeds), found " + tensors.size() + " tensors: "
                        + String.join(", ", tensors.keySet().stream().sorted().limit(8).toList()));
            }
            long[] shape = tensors.get(key).shape().getShape();
            if (shape.length < 1 || shape.length > 2 || shape[shape.length - 1] < 1
                    || shape.length == 2 && shape[0] < 1) {
                throw new ModelFormatException("embedding " + file + ": '" + key + "' has shape "
                        + tensors.get(key).shape() + "; expected [dim] or [n_vectors, dim]");
            }
            int n = shape.length == 1 ? 1 : Math.toIntExact(shape[0]);
            int dim = Math.toIntExact(shape[shape.length - 1]);
            float[] flat = st.load(key, scratch, DataType.FLOAT32).toFloatArray();
            float[][] vectors = new float[n][];
            for (int i = 0; i < n; i++) {
                vectors[i] = java.util.Arrays.copyOfRange(flat, i * dim, (i + 1) * dim);
            }
            return new TextualInversion(name, file, vectors);
        }
    }

    /** The file extensions that hold pickled PyTorch data, which mdx does not read. */
    static final List<String> PICKLE_EXTENSIONS = List.of(".pt", ".pth", ".bin", ".ckpt");
}
