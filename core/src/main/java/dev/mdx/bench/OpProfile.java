package dev.mdx.bench;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.MdxException;
import dev.mdx.io.JsonConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a forward pass spends its time, by engine op: runs work under libtorch's profiler, keeps its Chrome trace
 * file (open it in a trace viewer for the timeline) and sums each op's self time, i.e. its duration minus that
 * of the ops it called (aten::matmul calls aten::bmm; only the innermost does the work).
 */
public final class OpProfile {
    /** One op name's totals over the profiled run. */
    public record OpTime(String name, int calls, double selfMs) {}

    private final List<OpTime> ops;
    private final double totalSelfMs;

    private OpProfile(List<OpTime> ops) {
        this.ops = ops;
        this.totalSelfMs = ops.stream().mapToDouble(OpTime::selfMs).sum();
    }

    /** Runs {@code work} under the profiler and writes the trace to {@code traceFile}. */
    public static OpProfile record(Path traceFile, Runnable work) {
        JniUtils.startProfile(false, false, false);
        try {
            work.run();
        } finally {
            JniUtils.stopProfile(traceFile.toString());
        }
        return read(traceFile);
    }

    /** Reads a Chrome trace of complete ("X") events as libtorch's profiler writes it. */
    public static OpProfile read(Path traceFile) {
        JsonNode events;
        try {
            events = JsonConfig.MAPPER.readTree(Files.readString(traceFile));
        } catch (IOException e) {
            throw new MdxException("cannot read profiler trace " + traceFile + ": " + e.getMessage());
        }
        if (events == null || !events.isArray()) {
            throw new MdxException(traceFile + ": not a trace (expected a JSON array of events)");
        }
        Map<String, List<Event>> byThread = new LinkedHashMap<>();
        for (JsonNode e : events) {
            if ("X".equals(e.path("ph").asText())) {
                byThread.computeIfAbsent(e.path("tid").asText(), k -> new ArrayList<>()).add(
                        new Event(e.path("name").asText(), e.path("ts").asDouble(), e.path("dur").asDouble()));
            }
        }
        Map<String, double[]> totals = new LinkedHashMap<>(); // name -> {calls, self us}
        for (List<Event> thread : byThread.values()) {
            selfTimes(thread, totals);
        }
        List<OpTime> ops = new ArrayList<>();
        totals.forEach((name, t) -> ops.add(new OpTime(name, (int) t[0], t[1] / 1000)));
        ops.sort(Comparator.comparingDouble(OpTime::selfMs).reversed());
        return new OpProfile(ops);
    }

    /** Events of one thread nest by time; an event's self time is its duration minus its direct children's. */
    private static void selfTimes(List<Event> events, Map<String, double[]> totals) {
        events.sort(Comparator.comparingDouble(Event::start).thenComparing(Comparator.comparingDouble(Event::dur)
                .reversed()));
        Deque<double[]> open = new ArrayDeque<>(); // {end, child time, index}
        List<double[]> self = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            while (!open.isEmpty() && open.peek()[0] <= e.start()) {
                open.pop();
            }
            if (!open.isEmpty()) {
                open.peek()[1] += e.dur();
            }
            double[] frame = {e.start() + e.dur(), 0, i};
            open.push(frame);
            self.add(frame);
        }
        for (double[] frame : self) {
            Event e = events.get((int) frame[2]);
            double[] t = totals.computeIfAbsent(e.name(), k -> new double[2]);
            t[0]++;
            t[1] += Math.max(0, e.dur() - frame[1]);
        }
    }

    /** Ops by self time, largest first. */
    public List<OpTime> ops() {
        return ops;
    }

    public double totalSelfMs() {
        return totalSelfMs;
    }

    /** The {@code n} largest ops as table lines: self ms, share of all self time, calls, name. */
    public List<String> top(int n) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(java.util.Locale.ROOT, "%12s %7s %7s  %s", "self ms", "share", "calls", "op"));
        for (OpTime op : ops.subList(0, Math.min(n, ops.size()))) {
            lines.add(String.format(java.util.Locale.ROOT, "%12.1f %6.1f%% %7d  %s", op.selfMs(),
                    100 * op.selfMs() / totalSelfMs, op.calls(), op.name()));
        }
        return lines;
    }

    private record Event(String name, double start, double dur) {}
}
