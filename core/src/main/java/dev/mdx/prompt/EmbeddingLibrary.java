package dev.mdx.prompt;

import dev.mdx.text.ClipTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The textual-inversion embeddings of a folder (and its sub-folders), each named by its file name without the
 * extension, as A1111 names them. The folder is listed for every prompt, so files added while a server runs are
 * found; a file's vectors are read when a prompt first uses it and kept until the file changes.
 */
public final class EmbeddingLibrary {
    /** No folder: no embeddings. */
    public static final EmbeddingLibrary NONE = new EmbeddingLibrary(null);

    private final Path dir;
    private final Map<Path, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(FileTime modified, long size, TextualInversion embedding) {}

    /** @param dir the folder, which may not exist (then there are no embeddings); null for none */
    public EmbeddingLibrary(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** A name a prompt can use: its file, and whether that file is pickled (named so it can be refused). */
    record Entry(String name, Path file, boolean pickled) {}

    /** The embeddings' names as token ids, for matching in a prompt's ids. */
    Lookup lookup(ClipTokenizer tokenizer) {
        Map<Integer, List<Lookup.Candidate>> byFirst = new HashMap<>();
        for (Entry e : entries()) {
            int[] ids = tokenizer.convertTokensToIds(tokenizer.tokenize(e.name()));
            if (ids.length > 0) {
                byFirst.computeIfAbsent(ids[0], k -> new ArrayList<>()).add(new Lookup.Candidate(ids, e));
            }
        }
        // A1111 tries the longest name first
        byFirst.values().forEach(l -> l.sort(Comparator.comparingInt((Lookup.Candidate c) -> -c.ids().length)));
        return new Lookup(byFirst);
    }

    /** Every embedding file in the folder, by name; a .safetensors file wins over a pickled one of the same name. */
    List<Entry> entries() {
        if (dir == null || !Files.isDirectory(dir)) {
            return List.of();
        }
        Map<String, Entry> byName = new HashMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            files.filter(Files::isRegularFile).sorted().forEach(f -> {
                String file = f.getFileName().toString();
                String lower = file.toLowerCase(Locale.ROOT);
                if (lower.endsWith(".safetensors")) {
                    String name = file.substring(0, file.length() - ".safetensors".length());
                    byName.put(name, new Entry(name, f, false));
                } else {
                    for (String ext : TextualInversion.PICKLE_EXTENSIONS) {
                        if (lower.endsWith(ext)) {
                            String name = file.substring(0, file.length() - ext.length());
                            byName.putIfAbsent(name, new Entry(name, f, true));
                        }
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the embeddings folder " + dir + ": " + e.getMessage(), e);
        }
        return List.copyOf(byName.values());
    }

    /** The embeddings a model of text-encoder width {@code width} can use, and why the others cannot, by name. */
    public record Listing(List<TextualInversion> usable, Map<String, String> skipped) {}

    /** Reads every embedding of the folder (A1111's embedding list). */
    public Listing list(int width) {
        List<TextualInversion> usable = new ArrayList<>();
        Map<String, String> skipped = new java.util.TreeMap<>();
        for (Entry e : entries()) {
            try {
                TextualInversion t = load(e);
                if (t.width() == width) {
                    usable.add(t);
                } else {
                    skipped.put(e.name(), "vectors of " + t.width() + " values; this model's text encoder takes "
                            + width);
                }
            } catch (IllegalArgumentException | dev.mdx.MdxException | UncheckedIOException ex) {
                skipped.put(e.name(), ex.getMessage());
            }
        }
        usable.sort(Comparator.comparing(TextualInversion::name));
        return new Listing(List.copyOf(usable), skipped);
    }

    /** The embedding of an entry, read once per version of its file. */
    TextualInversion load(Entry e) {
        if (e.pickled()) {
            throw new IllegalArgumentException("the embedding '" + e.name() + "' is " + e.file() + ", a pickled"
                    + " PyTorch file; mdx reads embeddings only from .safetensors, which cannot run code when loaded."
                    + " Convert it to .safetensors first");
        }
        try {
            FileTime modified = Files.getLastModifiedTime(e.file());
            long size = Files.size(e.file());
            Cached c = cache.get(e.file());
            if (c == null || !c.modified().equals(modified) || c.size() != size) {
                c = new Cached(modified, size, TextualInversion.read(e.name(), e.file()));
                cache.put(e.file(), c);
            }
            return c.embedding();
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot read the embedding " + e.file() + ": " + ex.getMessage(), ex);
        }
    }

    /** Embedding names by their first token id, longest first. */
    record Lookup(Map<Integer, List<Candidate>> byFirst) {
        static final Lookup EMPTY = new Lookup(Map.of());

        record Candidate(int[] ids, Entry entry) {}

        /** The embedding whose name's ids start at {@code ids[pos]}, or null. */
        Candidate at(int[] ids, int pos) {
            List<Candidate> candidates = byFirst.get(ids[pos]);
            if (candidates == null) {
                return null;
            }
            for (Candidate c : candidates) {
                if (pos + c.ids().length <= ids.length
                        && java.util.Arrays.equals(ids, pos, pos + c.ids().length, c.ids(), 0, c.ids().length)) {
                    return c;
                }
            }
            return null;
        }
    }
}
