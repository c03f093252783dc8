package dev.mdx.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.pipeline.GenerationParameters;
import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;

/** Reading bodies within the size limit and writing JSON, shared by the APIs. */
final class Responses {
    private Responses() {}

    static void json(Context ctx, JsonNode body) {
        try {
            ctx.contentType("application/json").result(Fields.MAPPER.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a response always serialises", e);
        }
    }

    /** The request body, refused with 413 past {@code limit} bytes (by its Content-Length, or while reading). */
    static byte[] body(Context ctx, long limit) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            throw ApiException.tooLarge(null, "the body is " + declared + " bytes; this server takes at most " + limit);
        }
        try (InputStream in = ctx.req().getInputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                if (out.size() > limit) {
                    throw ApiException.tooLarge(null, "the body is more than " + limit + " bytes; this server takes"
                            + " at most " + limit);
                }
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw ApiException.badRequest(null, "the body could not be read: " + e.getMessage());
        }
    }

    static String base64(byte[] png) {
        return Base64.getEncoder().encodeToString(png);
    }

    /** The parameters a generation ran with, with A1111's field names (which mdx's own API also uses). */
    static ObjectNode parameters(GenerationParameters p) {
        ObjectNode o = Fields.MAPPER.createObjectNode();
        o.put("prompt", p.prompt());
        o.put("negative_prompt", p.negativePrompt());
        o.put("steps", p.steps());
        o.put("cfg_scale", p.cfgScale());
        o.put("seed", p.seed());
        o.put("width", p.width());
        o.put("height", p.height());
        o.put("n", p.batchCount());
        o.put("sampler", p.sampler().cliName());
        o.put("sampler_name", p.samplerName());
        o.put("eta", p.eta());
        o.put("model", p.model());
        return o;
    }
}
