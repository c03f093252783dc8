package dev.mdx.train.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/** Reads files out of a gzipped tar (an npm package tarball) without unpacking it to disk. */
public final class TgzArchive {
    private TgzArchive() {}

    /**
     * Returns the wanted regular files keyed by their path below the archive's top folder (npm tarballs put
     * everything under {@code package/}, so {@code package/icons.json} is returned as {@code icons.json}).
     */
    public static Map<String, byte[]> read(Path tgz, Predicate<String> wanted) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(tgz));
             TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(raw))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (!entry.isFile()) {
                    continue;
                }
                String name = stripTopFolder(entry.getName());
                if (wanted.test(name)) {
                    files.put(name, tar.readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new DatasetException(tgz + ": not a readable .tgz archive (" + e.getMessage() + ")", e);
        }
        return files;
    }

    static String stripTopFolder(String entryName) {
        int slash = entryName.indexOf('/');
        return slash < 0 ? entryName : entryName.substring(slash + 1);
    }

    /** One required file of an archive, with an error naming the archive if it is missing. */
    public static byte[] require(Map<String, byte[]> files, String name, Path tgz) {
        byte[] bytes = files.get(name);
        if (bytes == null) {
            throw new DatasetException(tgz + ": has no " + name);
        }
        return bytes;
    }
}
