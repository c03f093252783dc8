package dev.mdx.web;

import com.sun.net.httpserver.HttpExchange;
import dev.mdx.serve.Browser;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Static files on loopback for the page tests: folders mounted at URL prefixes, plus files given as bytes. Sends
 * the cross-origin isolation headers (COOP/COEP) so that onnxruntime-web may use its WebAssembly threads, and the
 * content types browsers insist on for ES modules and WebAssembly. A test fixture, not a production server.
 */
final class StaticServer implements AutoCloseable {
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8", "js", "text/javascript", "mjs", "text/javascript",
            "css", "text/css", "json", "application/json", "wasm", "application/wasm", "txt", "text/plain; charset=utf-8",
            "onnx", "application/octet-stream", "bin", "application/octet-stream");

    private final HttpServer server;
    private final Map<String, Path> mounts = new LinkedHashMap<>();
    private final Map<String, byte[]> files = new LinkedHashMap<>();

    StaticServer() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", this::handle);
        server.start();
    }

    /** Serves {@code dir}'s files under {@code prefix} ("/" or "/name/"). */
    StaticServer mount(String prefix, Path dir) {
        mounts.put(prefix, dir.toAbsolutePath().normalize());
        return this;
    }

    /** Serves {@code bytes} at {@code path}. */
    StaticServer file(String path, byte[] bytes) {
        files.put(path, bytes);
        return this;
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            byte[] body = files.get(path);
            if (body == null) {
                body = fromMounts(path);
            }
            ex.getResponseHeaders().set("Cross-Origin-Opener-Policy", "same-origin");
            ex.getResponseHeaders().set("Cross-Origin-Embedder-Policy", "require-corp");
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            String ext = path.substring(path.lastIndexOf('.') + 1);
            ex.getResponseHeaders().set("Content-Type", TYPES.getOrDefault(ext, "application/octet-stream"));
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** The longest mount prefix that matches; null when none does or the path leaves the mounted folder. */
    private byte[] fromMounts(String path) throws IOException {
        String best = null;
        for (String prefix : mounts.keySet()) {
            if (path.startsWith(prefix) && (best == null || prefix.length() > best.length())) {
                best = prefix;
            }
        }
        if (best == null) {
            return null;
        }
        Path root = mounts.get(best);
        Path file = root.resolve(path.substring(best.length())).normalize();
        return file.startsWith(root) && Files.isRegularFile(file) ? Files.readAllBytes(file) : null;
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /** Closes {@code browser} (when one was opened), then this server: a page test's clean-up. */
    void closeWith(Browser browser) {
        try (this) {
            if (browser != null) {
                browser.close();
            }
        }
    }
}
