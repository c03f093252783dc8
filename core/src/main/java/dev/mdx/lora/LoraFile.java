package dev.mdx.lora;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.DType;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A LoRA safetensors file read into its layers, in any of the formats users bring:
 * <ul>
 * <li>kohya-ss / A1111: {@code lora_unet_<path with _>.lora_down.weight}, {@code .lora_up.weight}, {@code .alpha}
 *     (text encoder: {@code lora_te_}); LoCon conv layers have a (rank, in, k, k) down and a (out, rank, 1, 1) up;
 * <li>diffusers: {@code unet.<path>.lora.down.weight} / {@code .lora.up.weight},
 *     {@code text_encoder.<path>.lora_linear_layer.down.weight} / {@code .up.weight}, and the older attention
 *     processor names ({@code <path>.processor.to_q_lora.down.weight}, text encoder {@code self_attn.to_q_lora});
 * <li>PEFT: {@code <prefix><path>.lora_A.weight} / {@code .lora_B.weight}, prefix {@code unet.},
 *     {@code text_encoder.}, {@code base_model.model.} or none, with {@code lora_alpha} from an
 *     {@code adapter_config.json} beside the file when there is one.
 * </ul>
 * A tensor that fits none of these is kept as unrecognized, so nothing is skipped silently. Only the header and the
 * alphas are read here; the down and up weights are read when the LoRA is fused. Pickled files ({@code .ckpt},
 * {@code .pt}) are refused: unpickling can run code.
 */
public final class LoraFile {
    /** The naming scheme a layer was found in. */
    public enum Format {
        KOHYA("kohya"), DIFFUSERS("diffusers"), PEFT("PEFT");

        private final String displayName;

        Format(String displayName) {
            this.displayName = displayName;
        }

        public String displayName() {
            return displayName;
        }
    }

    /**
     * One LoRA layer as the file names it.
     *
     * @param part the model it is for
     * @param name the layer's name after the part prefix: a module path, or for kohya the path with underscores
     * @param downKey, upKey the tensors' keys in the file
     * @param alphaKey the alpha tensor's key, or null
     * @param alpha the network alpha (the factor is alpha / rank), or null for none (factor 1)
     */
    public record Layer(LoraPart part, String name, Format format, String downKey, String upKey, String alphaKey,
            Shape down, Shape up, Float alpha) {
        /** The file keys of this layer. */
        public List<String> keys() {
            List<String> keys = new ArrayList<>(List.of(downKey, upKey));
            if (alphaKey != null) {
                keys.add(alphaKey);
            }
            return keys;
        }

        public int rank() {
            return (int) down.get(0);
        }
    }

    /** The identity of the file's bytes, so that a changed file is noticed between planning and fusing. */
    public record Identity(Path path, long size, FileTime modified) {}

    private static final List<String> PICKLE_EXTENSIONS = List.of(".ckpt", ".pt", ".pth", ".bin", ".pkl");
    private static final Pattern KOHYA = Pattern.compile(
            "(lora_unet|lora_te)_(.+)\\.(lora_down\\.weight|lora_up\\.weight|alpha)");
    /** diffusers 0.2x: unet.X.lora.down.weight, text_encoder.X.lora_linear_layer.up.weight. */
    private static final Pattern DIFFUSERS = Pattern.compile(
            "(unet\\.|text_encoder\\.)?(.+)\\.(lora|lora_linear_layer)\\.(down|up)\\.weight");
    /** diffusers' attention-processor names: X.processor.to_q_lora.down.weight, text encoder X.to_q_lora... */
    private static final Pattern PROCESSOR = Pattern.compile(
            "(unet\\.|text_encoder\\.)?(.+?)(\\.processor)?\\.(to_q|to_k|to_v|to_out)_lora\\.(down|up)\\.weight");
    private static final Pattern PEFT = Pattern.compile(
            "(unet\\.|text_encoder\\.|base_model\\.model\\.)?(.+)\\.lora_(A|B)\\.weight");
    private static final Pattern DIFFUSERS_ALPHA = Pattern.compile("(unet\\.|text_encoder\\.)(.+)\\.alpha");
    /** The text encoder's top-level module: a layer under it, without a part prefix, is for the text encoder. */
    private static final String TEXT_MODEL = "text_model.";

    private final Identity identity;
    private final Map<String, String> metadata;
    private final List<Layer> layers;
    private final Map<String, String> unrecognized;
    private final int tensorCount;

    private LoraFile(Identity identity, Map<String, String> metadata, List<Layer> layers,
            Map<String, String> unrecognized, int tensorCount) {
        this.identity = identity;
        this.metadata = metadata;
        this.layers = layers;
        this.unrecognized = unrecognized;
        this.tensorCount = tensorCount;
    }

    /**
     * Reads a LoRA file's header and alphas.
     *
     * @throws LoraException for a missing, pickled or malformed file, or one without any LoRA layer
     */
    public static LoraFile read(Path path) {
        Identity identity = identify(path);
        try (SafeTensorsFile st = SafeTensorsFile.open(path); NDManager scratch = NDManager.newBaseManager()) {
            return parse(identity, st, scratch, adapterAlpha(path));
        }
    }

    /** The file's identity now; a LoraException if it is missing, not a file, or pickled. */
    static Identity identify(Path path) {
        String lower = String.valueOf(path.getFileName()).toLowerCase(Locale.ROOT);
        for (String ext : PICKLE_EXTENSIONS) {
            if (lower.endsWith(ext)) {
                throw pickled(path);
            }
        }
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new LoraException("LoRA " + path + ": no such file");
        } catch (IOException e) {
            throw new LoraException("LoRA " + path + ": cannot read: " + e.getMessage(), e);
        }
        if (!attrs.isRegularFile()) {
            throw new LoraException("LoRA " + path + ": not a file (give a .safetensors LoRA file)");
        }
        if (looksPickled(path)) {
            throw pickled(path);
        }
        return new Identity(path.toAbsolutePath().normalize(), attrs.size(), attrs.lastModifiedTime());
    }

    private static LoraException pickled(Path path) {
        return new LoraException("LoRA " + path + ": a pickled PyTorch file (.ckpt/.pt); mdx reads LoRAs only from"
                + " .safetensors, which cannot run code when loaded. Convert it to .safetensors first");
    }

    /** A zip (torch.save since 1.6) or a raw pickle (protocol 2+ starts with 0x80). */
    private static boolean looksPickled(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            byte[] head = in.readNBytes(4);
            return head.length >= 1 && (head[0] & 0xff) == 0x80
                    || head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** PEFT's lora_alpha from adapter_config.json beside the file, or null. */
    private static Float adapterAlpha(Path path) {
        Path parent = path.toAbsolutePath().getParent();
        Path config = parent == null ? null : parent.resolve("adapter_config.json");
        if (config == null || !Files.isRegularFile(config)) {
            return null;
        }
        JsonConfig json = JsonConfig.read(config);
        if (json.getBool("use_rslora", false)) {
            throw new LoraException("LoRA " + path + ": " + config + " sets use_rslora (alpha / sqrt(rank)), which"
                    + " mdx does not apply");
        }
        return json.has("lora_alpha") ? (float) json.getDouble("lora_alpha", 0) : null;
    }

    /** What is known about one layer while its tensors are collected. */
    private static final class Draft {
        final LoraPart part;
        final String name;
        final Format format;
        String down;
        String up;
        String alpha;

        Draft(LoraPart part, String name, Format format) {
            this.part = part;
            this.name = name;
            this.format = format;
        }
    }

    private static LoraFile parse(Identity identity, SafeTensorsFile st, NDManager scratch, Float peftAlpha) {
        Map<String, Draft> drafts = new LinkedHashMap<>();
        Map<String, String> unrecognized = new LinkedHashMap<>();
        for (String key : st.tensors().keySet()) {
            if (!assign(key, drafts)) {
                unrecognized.put(key, whyUnrecognized(key));
            }
        }
        List<Layer> layers = new ArrayList<>();
        for (Draft d : drafts.values()) {
            if (d.down == null || d.up == null) {
                for (String key : new String[] {d.down, d.up, d.alpha}) {
                    if (key != null) {
                        unrecognized.put(key, d.down == null ? "has no down weight" : "has no up weight");
                    }
                }
                continue;
            }
            Float alpha = d.alpha != null ? readScalar(st, d.alpha, scratch)
                    : d.format == Format.PEFT ? peftAlpha : null;
            layers.add(new Layer(d.part, d.name, d.format, d.down, d.up, d.alpha, st.info(d.down).shape(),
                    st.info(d.up).shape(), alpha));
        }
        if (layers.isEmpty()) {
            throw new LoraException("LoRA " + identity.path() + ": none of its " + st.tensors().size()
                    + " tensors is a LoRA layer (kohya lora_down/lora_up, diffusers lora.down/lora.up or PEFT"
                    + " lora_A/lora_B weights)" + examples(unrecognized));
        }
        return new LoraFile(identity, Map.copyOf(st.metadata()), List.copyOf(layers),
                Collections.unmodifiableMap(unrecognized), st.tensors().size());
    }

    private static String examples(Map<String, String> unrecognized) {
        if (unrecognized.isEmpty()) {
            return "";
        }
        StringBuilder s = new StringBuilder("; for example:");
        unrecognized.keySet().stream().limit(5).forEach(k -> s.append("\n    ").append(k));
        return s.toString();
    }

    /** Files the key under its layer; false when it is no LoRA tensor mdx knows. */
    private static boolean assign(String key, Map<String, Draft> drafts) {
        Matcher m = KOHYA.matcher(key);
        if (m.matches()) {
            LoraPart part = m.group(1).equals("lora_unet") ? LoraPart.UNET : LoraPart.TEXT_ENCODER;
            Draft d = draft(drafts, part, m.group(2), Format.KOHYA);
            switch (m.group(3)) {
                case "lora_down.weight" -> d.down = key;
                case "lora_up.weight" -> d.up = key;
                default -> d.alpha = key;
            }
            return true;
        }
        m = PROCESSOR.matcher(key);
        if (m.matches()) {
            LoraPart part = part(m.group(1), m.group(2));
            String module = m.group(2) + "." + processorTarget(part, m.group(4));
            return downOrUp(draft(drafts, part, module, Format.DIFFUSERS), m.group(5).equals("down"), key);
        }
        m = DIFFUSERS.matcher(key);
        if (m.matches()) {
            LoraPart part = part(m.group(1), m.group(2));
            return downOrUp(draft(drafts, part, m.group(2), Format.DIFFUSERS), m.group(4).equals("down"), key);
        }
        m = PEFT.matcher(key);
        if (m.matches()) {
            LoraPart part = part(m.group(1), m.group(2));
            return downOrUp(draft(drafts, part, m.group(2), Format.PEFT), m.group(3).equals("A"), key);
        }
        m = DIFFUSERS_ALPHA.matcher(key);
        if (m.matches()) {
            LoraPart part = part(m.group(1), m.group(2));
            Draft d = drafts.get(part + ":" + m.group(2));
            if (d != null) {
                d.alpha = key;
                return true;
            }
            // an alpha before its weights: make the layer, the weights join it by name
            draft(drafts, part, m.group(2), Format.DIFFUSERS).alpha = key;
            return true;
        }
        return false;
    }

    private static boolean downOrUp(Draft d, boolean down, String key) {
        if (down) {
            d.down = key;
        } else {
            d.up = key;
        }
        return true;
    }

    private static Draft draft(Map<String, Draft> drafts, LoraPart part, String name, Format format) {
        return drafts.computeIfAbsent(part + ":" + name, k -> new Draft(part, name, format));
    }

    /** The part a prefix names; without one, text-encoder paths start with text_model. */
    private static LoraPart part(String prefix, String path) {
        if (prefix == null || prefix.equals("base_model.model.")) {
            return path.startsWith(TEXT_MODEL) ? LoraPart.TEXT_ENCODER : LoraPart.UNET;
        }
        return prefix.equals(LoraPart.TEXT_ENCODER.diffusersPrefix()) ? LoraPart.TEXT_ENCODER : LoraPart.UNET;
    }

    /** The projection an attention-processor LoRA name stands for: to_out is to_out.0; CLIP's are q_proj... */
    private static String processorTarget(LoraPart part, String name) {
        if (part == LoraPart.TEXT_ENCODER) {
            return switch (name) {
                case "to_q" -> "q_proj";
                case "to_k" -> "k_proj";
                case "to_v" -> "v_proj";
                default -> "out_proj";
            };
        }
        return name.equals("to_out") ? "to_out.0" : name;
    }

    private static String whyUnrecognized(String key) {
        if (key.contains(".hada_") || key.contains(".lokr_")) {
            return "a LyCORIS LoHa/LoKr tensor; mdx applies LoRA (lora_down/lora_up) layers only";
        }
        if (key.endsWith(".dora_scale")) {
            return "a DoRA magnitude; mdx applies plain LoRA layers only";
        }
        if (key.contains(".lora_mid.")) {
            return "a LoCon Tucker (lora_mid) tensor; mdx applies plain LoRA layers only";
        }
        if (key.startsWith("lora_te1_") || key.startsWith("lora_te2_")) {
            return "for one of SDXL's two text encoders; this model has one";
        }
        return "not a LoRA tensor name mdx knows";
    }

    /**
     * A 0-dim or one-element tensor's value (alpha is often stored as float16), or null for 0, which kohya-ss
     * reads as "alpha = rank" (factor 1).
     */
    private static Float readScalar(SafeTensorsFile st, String key, NDManager scratch) {
        TensorInfo info = st.info(key);
        if (info.shape().size() != 1 || info.dtype() == DType.BOOL) {
            throw new LoraException("LoRA " + st.path() + ": " + key + " should be one number, has shape "
                    + info.shape() + " of " + info.dtype());
        }
        float value = st.load(key, scratch, DataType.FLOAT32).toFloatArray()[0];
        if (!Float.isFinite(value)) {
            throw new LoraException("LoRA " + st.path() + ": " + key + " is " + value + "; alpha must be a number");
        }
        return value == 0 ? null : value;
    }

    public Path path() {
        return identity.path();
    }

    public Identity identity() {
        return identity;
    }

    /** The safetensors {@code __metadata__} (kohya's {@code ss_*} training settings, for example). */
    public Map<String, String> metadata() {
        return metadata;
    }

    public List<Layer> layers() {
        return layers;
    }

    /** Keys that are no complete LoRA layer mdx knows, each with the reason. */
    public Map<String, String> unrecognized() {
        return unrecognized;
    }

    public int tensorCount() {
        return tensorCount;
    }

    /** Checks that the file is still the one that was read. */
    public void requireUnchanged() {
        Identity now = identify(identity.path());
        if (!now.equals(identity)) {
            throw new LoraException("LoRA " + identity.path() + " changed on disk after the request was planned;"
                    + " plan the request again");
        }
    }
}
