package dev.mdx.serve;

import java.util.Map;

/**
 * A request that ends in an error response: the HTTP status, OpenAI's error type, the request field at fault (or
 * null), a message for the caller and any headers the status needs (Retry-After on 429).
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final Map<String, String> headers;

    public ApiException(int status, String type, String param, String message, Map<String, String> headers) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.headers = Map.copyOf(headers);
    }

    public ApiException(int status, String type, String param, String message) {
        this(status, type, param, message, Map.of());
    }

    /** 400: a field with a bad value, named as the caller's API names it. */
    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, message);
    }

    public static ApiException notFound(String param, String message) {
        return new ApiException(404, "not_found_error", param, message);
    }

    public static ApiException tooLarge(String param, String message) {
        return new ApiException(413, "request_too_large", param, message);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public Map<String, String> headers() {
        return headers;
    }
}
