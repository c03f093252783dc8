package dev.mdx.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.pipeline.GenerationParameters;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.StepEvent;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A job's progress as server-sent events on the response of the POST that asked for it. The worker only hands
 * events over (it never waits on a slow client); the request's own thread writes them. When the client falls
 * behind, step events beyond a small backlog are dropped, never images or the final event. A failed write means the
 * client left, which stops the job.
 */
final class EventStream implements Job.Listener {
    /** How an API names and shapes its events. */
    interface Format {
        ObjectNode queued(int ahead);

        ObjectNode step(StepEvent event, byte[] previewPng);

        ObjectNode image(int index, byte[] png, GenerationParameters used);

        ObjectNode done(Job.Result result);

        /** The event name of each payload is its {@code type} field. */
        default String name(ObjectNode data) {
            return data.path("type").asText("message");
        }
    }

    private record Event(String name, ObjectNode data, boolean last) {}

    /** Step events allowed to wait for a slow client before newer ones are dropped. */
    private static final int STEP_BACKLOG = 8;
    private static final long KEEP_ALIVE_SECONDS = 15;

    private final Format format;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

    EventStream(Format format) {
        this.format = format;
    }

    @Override
    public boolean wantsPreviews() {
        return true;
    }

    void queued(int ahead) {
        offer(format.queued(ahead), false);
    }

    @Override
    public void onStep(Job job, StepEvent event, byte[] previewPng) {
        if (events.size() < STEP_BACKLOG) {
            offer(format.step(event, previewPng), false);
        }
    }

    @Override
    public void onImage(Job job, int index, RgbImage image, GenerationParameters used, byte[] png) {
        offer(format.image(index, png, used), false);
    }

    /** The last event: the job's summary, or its error. */
    void finish(Job.Result result, Throwable error) {
        if (error == null) {
            offer(format.done(result), true);
            return;
        }
        ApiException e = error instanceof ApiException a ? a
                : new ApiException(500, "server_error", null, ErrorResponses.internalMessage(error));
        offer(ErrorResponses.body(e, false), true);
    }

    private void offer(ObjectNode data, boolean last) {
        events.add(new Event(last && data.has("error") ? "error" : format.name(data), data, last));
    }

    /**
     * Writes events until the last one, on the calling (request) thread; {@code onClientGone} runs when a write
     * fails.
     */
    void pump(Context ctx, Runnable onClientGone) {
        ctx.status(200);
        ctx.contentType("text/event-stream; charset=utf-8");
        ctx.header("Cache-Control", "no-cache");
        try {
            OutputStream out = ctx.res().getOutputStream();
            while (true) {
                Event e = events.poll(KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
                if (e == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                } else {
                    String text = "event: " + e.name() + "\ndata: " + Fields.MAPPER.writeValueAsString(e.data())
                            + "\n\n";
                    out.write(text.getBytes(StandardCharsets.UTF_8));
                }
                out.flush();
                if (e != null && e.last()) {
                    return;
                }
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("an event always serialises", e);
        } catch (IOException e) {
            onClientGone.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            onClientGone.run();
        }
    }
}
