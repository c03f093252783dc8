package dev.mdx.train.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mdx.io.JsonConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * An Iconify JSON icon set package ({@code @iconify-json/*}): {@code icons.json} holds each icon's SVG body (the
 * children of an {@code <svg>}) with a shared or per-icon view box, {@code chars.json} maps emoji code point
 * sequences (lower-case hex joined by '-') to icon names, {@code info.json} names the set, its author and license.
 *
 * <p>Emoji are joined by code points through {@code chars.json}, with FE0F (variation selector 16) dropped on
 * both sides because sets and emojibase disagree on where it is written. Icon names are descriptions
 * ("fox", "waving-hand-medium") that differ between sets, so a name is only a fallback: the emoji's
 * label turned into a slug ("flag: Martinique" to "flag-martinique").
 */
public final class IconifySet {
    public record License(String title, String spdx, String url) {}

    public enum MatchKind { CODEPOINTS, NAME }

    public record Match(String iconName, MatchKind kind) {}

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String VARIATION_SELECTOR_16 = "fe0f";

    private final String source;
    private final String prefix;
    private final String name;
    private final String author;
    private final String version;
    private final License license;
    private final JsonNode icons;
    private final JsonNode aliases;
    private final IconBox defaults;
    private final Map<String, String> iconByCodepoints;

    private IconifySet(String source, JsonNode iconsJson, JsonNode charsJson, JsonNode info, JsonNode pkg) {
        this.source = source;
        this.prefix = requireText(iconsJson, "prefix", source + ": icons.json");
        this.icons = iconsJson.get("icons");
        if (icons == null || !icons.isObject() || icons.isEmpty()) {
            throw new DatasetException(source + ": icons.json has no 'icons'");
        }
        this.aliases = iconsJson.path("aliases");
        this.defaults = new IconBox(iconsJson.path("left").asDouble(0), iconsJson.path("top").asDouble(0),
                iconsJson.path("width").asDouble(16), iconsJson.path("height").asDouble(16), false, false, 0);
        this.name = info.path("name").asText(prefix);
        this.author = info.path("author").path("name").asText("unknown");
        JsonNode lic = info.path("license");
        this.license = new License(lic.path("title").asText(pkg.path("license").asText("unknown")),
                lic.path("spdx").asText(pkg.path("license").asText("unknown")), lic.path("url").asText(""));
        this.version = pkg.path("version").asText("unknown");
        this.iconByCodepoints = new HashMap<>();
        charsJson.fields().forEachRemaining(e -> iconByCodepoints.put(normalizeHexcode(e.getKey()), e.getValue().asText()));
    }

    /** Reads a set from its npm tarball. */
    public static IconifySet read(Path tgz) {
        Map<String, byte[]> files = TgzArchive.read(tgz,
                n -> n.equals("icons.json") || n.equals("chars.json") || n.equals("info.json") || n.equals("package.json"));
        return parse(tgz.getFileName().toString(), TgzArchive.require(files, "icons.json", tgz),
                TgzArchive.require(files, "chars.json", tgz), TgzArchive.require(files, "info.json", tgz),
                TgzArchive.require(files, "package.json", tgz));
    }

    public static IconifySet parse(String source, byte[] icons, byte[] chars, byte[] info, byte[] packageJson) {
        return new IconifySet(source, json(source, "icons.json", icons), json(source, "chars.json", chars),
                json(source, "info.json", info), json(source, "package.json", packageJson));
    }

    /** Lower-case hex code points joined by '-', without FE0F: the key both sides of the join agree on. */
    public static String normalizeHexcode(String hexcode) {
        StringBuilder out = new StringBuilder();
        for (String part : hexcode.toLowerCase(Locale.ROOT).split("-")) {
            if (part.isEmpty() || part.equals(VARIATION_SELECTOR_16)) {
                continue;
            }
            if (out.length() > 0) {
                out.append('-');
            }
            out.append(part);
        }
        return out.toString();
    }

    /** An emoji label as an icon name: lower case, runs of other characters turned into one '-'. */
    public static String slug(String label) {
        return label.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    }

    public Optional<Match> find(EmojiEntry emoji) {
        String byCodepoints = iconByCodepoints.get(normalizeHexcode(emoji.hexcode()));
        if (byCodepoints != null && exists(byCodepoints)) {
            return Optional.of(new Match(byCodepoints, MatchKind.CODEPOINTS));
        }
        String byName = slug(emoji.label());
        if (exists(byName)) {
            return Optional.of(new Match(byName, MatchKind.NAME));
        }
        return Optional.empty();
    }

    public boolean exists(String iconName) {
        return icons.has(iconName) || (aliases.has(iconName) && icons.has(aliases.get(iconName).path("parent").asText()));
    }

    /** A complete standalone SVG document for one icon (aliases resolved, flips and rotation applied). */
    public String svg(String iconName) {
        JsonNode alias = aliases.get(iconName);
        JsonNode icon = icons.get(alias != null ? alias.path("parent").asText() : iconName);
        if (icon == null || !icon.hasNonNull("body")) {
            throw new DatasetException(source + ": no icon '" + iconName + "'");
        }
        IconBox box = defaults.with(icon);
        if (alias != null) {
            box = box.with(alias);
        }
        return box.wrap(icon.get("body").asText());
    }

    public String prefix() {
        return prefix;
    }

    public String name() {
        return name;
    }

    public String author() {
        return author;
    }

    public String version() {
        return version;
    }

    public License license() {
        return license;
    }

    public int iconCount() {
        return icons.size();
    }

    /** View box and transformations of one icon; an alias's flips toggle its parent's and rotations add up. */
    private record IconBox(double left, double top, double width, double height, boolean hFlip, boolean vFlip, int rotate) {
        IconBox with(JsonNode n) {
            return new IconBox(n.path("left").asDouble(left), n.path("top").asDouble(top),
                    n.path("width").asDouble(width), n.path("height").asDouble(height),
                    hFlip ^ n.path("hFlip").asBoolean(false), vFlip ^ n.path("vFlip").asBoolean(false),
                    (rotate + n.path("rotate").asInt(0)) % 4);
        }

        String wrap(String body) {
            StringBuilder transform = new StringBuilder();
            if (rotate != 0) {
                transform.append("rotate(").append(90 * rotate).append(' ')
                        .append(num(left + width / 2)).append(' ').append(num(top + height / 2)).append(") ");
            }
            if (hFlip) {
                // x -> 2*left + width - x maps the box onto itself
                transform.append("translate(").append(num(2 * left + width)).append(" 0) scale(-1 1) ");
            }
            if (vFlip) {
                transform.append("translate(0 ").append(num(2 * top + height)).append(") scale(1 -1) ");
            }
            String content = transform.length() == 0 ? body
                    : "<g transform=\"" + transform.toString().trim() + "\">" + body + "</g>";
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" viewBox=\""
                    + num(left) + ' ' + num(top) + ' ' + num(width) + ' ' + num(height) + "\">" + content + "</svg>";
        }

        private static String num(double v) {
            return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
        }
    }

    private static JsonNode json(String source, String file, byte[] bytes) {
        try {
            JsonNode node = MAPPER.readTree(new String(bytes, StandardCharsets.UTF_8));
            if (node == null || !node.isObject()) {
                throw new DatasetException(source + ": " + file + " is not a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new DatasetException(source + ": " + file + ": " + JsonConfig.describe(e), e);
        }
    }

    private static String requireText(JsonNode node, String field, String file) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new DatasetException(file + ": missing '" + field + "'");
        }
        return v.asText();
    }
}
