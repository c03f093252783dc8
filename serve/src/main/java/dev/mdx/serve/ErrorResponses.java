package dev.mdx.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;

/**
 * Every error the server sends has one shape, OpenAI's: {@code {"error": {"message", "type", "param", "code"}}};
 * under {@code /sdapi/} it also has A1111's (FastAPI's) {@code "detail"} with the same message, which A1111 clients
 * show.
 */
final class ErrorResponses {
    private ErrorResponses() {}

    static ObjectNode body(ApiException e, boolean a1111) {
        ObjectNode root = Fields.MAPPER.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type());
        error.put("param", e.param());
        error.put("code", e.status());
        if (a1111) {
            root.put("detail", e.getMessage());
        }
        return root;
    }

    static void send(Context ctx, ApiException e) {
        e.headers().forEach(ctx::header);
        Responses.json(ctx.status(e.status()), body(e, ctx.path().startsWith("/sdapi/")));
    }

    /** What a caller is told about a bug in mdx; the stack trace goes to the server's log. */
    static String internalMessage(Throwable e) {
        return "internal error (a bug in mdx; the server log has the details): " + e;
    }
}
