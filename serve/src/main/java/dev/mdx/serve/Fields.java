package dev.mdx.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import java.io.IOException;
import java.math.BigDecimal;

/**
 * A JSON request body with typed reads that answer a wrong type or range with a 400 naming the field. Absent and
 * {@code null} fields read as "not given". Unknown fields are ignored, as the APIs mdx speaks ignore them (A1111
 * clients send many settings mdx has no use for).
 */
final class Fields {
    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    static {
        // a body is at most the server's body limit, but keep one deep nesting from costing a stack
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
    }

    private final ObjectNode body;

    private Fields(ObjectNode body) {
        this.body = body;
    }

    /** Parses a request body; an empty body is an empty object. */
    static Fields parse(byte[] bytes) {
        if (bytes.length == 0) {
            return new Fields(MAPPER.createObjectNode());
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(null, "the body is not valid JSON: " + JsonConfig.describe(e));
        } catch (IOException e) {
            throw ApiException.badRequest(null, "the body could not be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw ApiException.badRequest(null, "the body must be a JSON object");
        }
        return new Fields((ObjectNode) root);
    }

    static Fields of(ObjectNode node) {
        return new Fields(node);
    }

    JsonNode raw(String name) {
        JsonNode v = body.get(name);
        return v == null || v.isNull() ? null : v;
    }

    boolean has(String name) {
        return raw(name) != null;
    }

    String string(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest(name, name + " must be a string, got " + v);
        }
        return v.asText();
    }

    String string(String name, String fallback) {
        String v = string(name);
        return v != null ? v : fallback;
    }

    Integer integer(String name, long min, long max) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        // 2.0 is an integer to JSON Schema and to Python clients alike
        if (!v.isNumber() || (!v.isIntegralNumber() && v.asDouble() != Math.rint(v.asDouble()))) {
            throw ApiException.badRequest(name, name + " must be an integer, got " + v);
        }
        double d = v.asDouble();
        if (d < min || d > max) {
            throw ApiException.badRequest(name, name + " must be between " + min + " and " + max + ", got " + v);
        }
        return (int) v.asLong();
    }

    int integer(String name, long min, long max, int fallback) {
        Integer v = integer(name, min, max);
        return v != null ? v : fallback;
    }

    Long longValue(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.badRequest(name, name + " must be an integer, got " + v);
        }
        return v.asLong();
    }

    Double number(String name, double min, double max) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw ApiException.badRequest(name, name + " must be a number, got " + v);
        }
        double d = v.asDouble();
        if (!(d >= min && d <= max)) {
            throw ApiException.badRequest(name, name + " must be between " + number(min) + " and "
                    + number(max) + ", got " + v);
        }
        return d;
    }

    Boolean bool(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw ApiException.badRequest(name, name + " must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    /** A nested object, or null. */
    Fields object(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw ApiException.badRequest(name, name + " must be an object, got " + v);
        }
        return new Fields((ObjectNode) v);
    }

    /** 7.0 -> "7", 0.5 -> "0.5". */
    static String number(double v) {
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }
}
