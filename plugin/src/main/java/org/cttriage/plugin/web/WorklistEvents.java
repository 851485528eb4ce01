package org.cttriage.plugin.web;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v1/events}: server-sent events for live worklist pages. Each event names a study whose entry
 * changed ({@code event: study}, data {@code {"studyInstanceUid": …, "reason": "result"|"review"|"overdue"}}); the page then
 * reads the entry through the API, so an event carries no patient data and a missed one costs only a refresh. A
 * comment line every {@link #HEARTBEAT_SECONDS} s keeps proxies from closing an idle stream and finds clients that
 * have gone. At most {@link #MAX_CLIENTS} streams at once (each holds one server thread).
 */
final class WorklistEvents {
    static final int MAX_CLIENTS = 16;
    static final int HEARTBEAT_SECONDS = 15;
    private static final Logger LOG = LoggerFactory.getLogger(WorklistEvents.class);
    private static final String CLOSE = "\u0000close";

    private final List<BlockingQueue<String>> clients = new CopyOnWriteArrayList<>();

    void publish(String studyInstanceUid, String reason) {
        String event = "event: study\ndata: {\"studyInstanceUid\":\"" + studyInstanceUid + "\",\"reason\":\"" + reason
                + "\"}\n\n";
        for (BlockingQueue<String> q : clients) {
            q.offer(event);
        }
    }

    /** Streams events to the exchange until the client goes or the server stops; runs on the request's thread. */
    void stream(WebExchange e) throws IOException {
        if (clients.size() >= MAX_CLIENTS) {
            e.error(503, "too many event streams open (" + MAX_CLIENTS + ")");
            return;
        }
        BlockingQueue<String> queue = new LinkedBlockingQueue<>(1000);
        clients.add(queue);
        e.startStream("text/event-stream; charset=utf-8");
        Throwable failure = null;
        try {
            e.write("retry: 3000\n: connected\n\n");
            while (true) {
                String next = queue.poll(HEARTBEAT_SECONDS, TimeUnit.SECONDS);
                if (CLOSE.equals(next)) {
                    break;
                }
                e.write(next == null ? ": heartbeat\n\n" : next);
            }
        } catch (IOException gone) {
            LOG.debug("event stream ended: {}", gone.toString());
            failure = gone;
        } catch (InterruptedException stop) {
            Thread.currentThread().interrupt();
            failure = stop;
        } finally {
            clients.remove(queue);
        }
        e.end(failure);
    }

    void close() {
        for (BlockingQueue<String> q : clients) {
            q.offer(CLOSE);
        }
    }
}
