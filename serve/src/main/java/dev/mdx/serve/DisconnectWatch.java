package dev.mdx.serve;

import io.javalin.http.Context;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;

/**
 * Notices a client that closes its connection while its request waits or generates, so the generation can stop.
 *
 * <p>Jetty reads nothing from a connection while a request is being handled, so it would notice a closed
 * connection only when writing the response. Once the request body has been read, this asks the connection's
 * endpoint to report readability: a client that waits sends nothing, so the only event is the end of the stream
 * (-1), which means it left. Bytes would be a pipelined next request, which clients do not send after a POST; since
 * reading them would take them from Jetty, the response is marked {@code Connection: close}, so Jetty never reads
 * that connection again and the watch cannot take bytes that belong to it.
 */
final class DisconnectWatch {
    private final EndPoint endPoint;
    private final Runnable onGone;
    private final AtomicBoolean fired = new AtomicBoolean();

    private DisconnectWatch(EndPoint endPoint, Runnable onGone) {
        this.endPoint = endPoint;
        this.onGone = onGone;
    }

    /** Starts watching; call after the request body has been read completely. */
    static void start(Context ctx, Runnable onGone) {
        ctx.header("Connection", "close");
        ServletContextRequest request = ServletContextRequest.getServletContextRequest(ctx.req());
        if (request == null) {
            return;
        }
        new DisconnectWatch(request.getConnectionMetaData().getConnection().getEndPoint(), onGone).arm();
    }

    private void arm() {
        endPoint.tryFillInterested(new Callback() {
            @Override
            public void succeeded() {
                check();
            }

            @Override
            public void failed(Throwable x) {
                // the connection closed or the response completed: nothing left to watch
            }
        });
    }

    private void check() {
        try {
            int n = endPoint.fill(BufferUtil.allocate(1));
            if (n < 0) {
                gone();
            } else if (n == 0) {
                arm();
            }
        } catch (IOException e) {
            gone();
        }
    }

    private void gone() {
        if (fired.compareAndSet(false, true)) {
            onGone.run();
        }
    }
}
