package org.cttriage.core.node;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivery model's dispatcher: takes the deliveries the {@link DeliveryLedger} says are due, claims
 * each, and hands it to its destination's lane, where that destination's {@link Exporter} makes one
 * attempt; the ledger then records the outcome under the lane's {@link RetryPolicy}. Each destination
 * has a lane (one thread) of its own, so that one destination's outage, slow answers or timeouts never
 * delay another's deliveries; within a lane deliveries go oldest first. A delivery whose result was
 * superseded before its turn is not sent ({@link DeliveryState#SUPERSEDED}): the newer result's delivery
 * to the same destination takes its place.
 *
 * <p>Nothing here sleeps or keeps delivery state: the caller calls {@link #dispatchDue()} on a timer
 * (retries come due) and whenever a result was recorded (its deliveries are due at once); the ledger is
 * the only record of what is owed.
 */
public final class DeliveryScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryScheduler.class);
    /** Deliveries claimed ahead per lane: enough to keep it busy between two dispatches, few enough to stay fair. */
    static final int LANE_DEPTH = 16;
    /** Due deliveries read per dispatch. */
    private static final int READ_AHEAD = 256;

    /**
     * One destination's lane.
     *
     * @param destination the destination's configured name (the ledger's {@code destination})
     * @param exporter its kind's exporter
     * @param policy its retries and dead letters
     */
    public record Lane(String destination, Exporter exporter, RetryPolicy policy) {
    }

    private final DeliveryLedger ledger;
    private final Clock clock;
    private final Map<String, Worker> lanes = new LinkedHashMap<>();
    private final NodeObserver observer;
    private final Duration claim;
    private volatile boolean closed;

    public DeliveryScheduler(DeliveryLedger ledger, List<Lane> lanes, Clock clock) {
        this(ledger, lanes, clock, NodeObserver.NONE);
    }

    /** @param observer told of every attempt's outcome once the ledger has recorded it */
    public DeliveryScheduler(DeliveryLedger ledger, List<Lane> lanes, Clock clock, NodeObserver observer) {
        this(ledger, lanes, clock, observer, DeliveryLedger.CLAIM);
    }

    /**
     * @param observer told of every attempt's outcome once the ledger has recorded it
     * @param claim how long a claim lasts: longer than any one attempt; it is how long a delivery claimed by a node
     *     that died waits before another node of a cluster attempts it
     */
    public DeliveryScheduler(DeliveryLedger ledger, List<Lane> lanes, Clock clock, NodeObserver observer,
            Duration claim) {
        this.claim = claim;
        this.ledger = ledger;
        this.clock = clock;
        this.observer = observer;
        for (Lane lane : lanes) {
            if (this.lanes.put(lane.destination(), new Worker(lane)) != null) {
                throw new IllegalArgumentException("two lanes for destination " + lane.destination());
            }
        }
    }

    /**
     * Claims the due deliveries (as many as the lanes take) and queues each on its lane.
     *
     * @return the deliveries queued
     */
    public synchronized int dispatchDue() throws TriageException {
        int queued = 0;
        if (closed) {
            return 0;
        }
        for (DeliveryLedger.Delivery d : ledger.due(clock.instant(), READ_AHEAD)) {
            Worker lane = lanes.get(d.destination());
            if (lane == null) {
                String why = ErrorCode.CONFIGURATION_INVALID.code() + " delivery owed to destination '"
                        + d.destination() + "', which is no longer configured";
                ledger.dead(d.id(), why);
                LOG.error("{} delivery {} moved to the dead letters: {}", ErrorCode.DICOM_DEAD_LETTER.code(), d.id(), why);
                continue;
            }
            if (lane.queued.get() >= LANE_DEPTH || !ledger.claim(d.id(), clock.instant().plus(claim))) {
                continue;
            }
            lane.queued.incrementAndGet();
            lane.thread.execute(() -> lane.attempt(d.id()));
            queued++;
        }
        return queued;
    }

    /**
     * Claims one delivery, if it is pending, due and unclaimed, and queues it on its lane: a clustered worker's
     * answer to the broker's delivery queue. False when it is not this node's to attempt now (done, not due,
     * claimed by another node, its lane full or unknown): the ledger's sweep takes it when its time comes.
     */
    public synchronized boolean dispatch(long id) throws TriageException {
        if (closed) {
            return false;
        }
        DeliveryLedger.Delivery d = ledger.find(id);
        java.time.Instant now = clock.instant();
        if (d == null || d.state() != DeliveryState.PENDING || d.nextAttempt() != null && d.nextAttempt().isAfter(now)) {
            return false;
        }
        Worker lane = lanes.get(d.destination());
        if (lane == null || lane.queued.get() >= LANE_DEPTH || !ledger.claim(id, now.plus(claim))) {
            return false;
        }
        lane.queued.incrementAndGet();
        lane.thread.execute(() -> lane.attempt(id));
        return true;
    }

    /** Attempts queued on each destination's lane and not yet started or finished (claimed, in memory). */
    public Map<String, Integer> laneDepths() {
        Map<String, Integer> depths = new LinkedHashMap<>();
        lanes.forEach((name, w) -> depths.put(name, w.queued.get()));
        return depths;
    }

    /** Stops the lanes: an attempt under way finishes (its timeouts bound it), queued ones stay owed in the ledger. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        for (Worker w : lanes.values()) {
            // Not shutdownNow: an interrupt inside an attempt would close H2's file channel under the
            // ledger write that records the outcome. Queued attempts are dropped; the ledger still owes them.
            w.thread.getQueue().clear();
            w.thread.shutdown();
        }
        for (Worker w : lanes.values()) {
            try {
                if (!w.thread.awaitTermination(Duration.ofSeconds(30).toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("delivery lane {} still attempting after 30 s; its claim runs out by itself", w.lane.destination());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** A lane: its destination's exporter on one thread of its own. */
    private final class Worker {
        final Lane lane;
        final ThreadPoolExecutor thread;
        final AtomicInteger queued = new AtomicInteger();

        Worker(Lane lane) {
            this.lane = lane;
            this.thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "delivery-" + lane.destination());
                t.setDaemon(true);
                return t;
            });
        }

        void attempt(long id) {
            try {
                DeliveryLedger.Delivery d = ledger.find(id);
                if (d == null || d.state() != DeliveryState.PENDING) {
                    return;
                }
                if (d.supersededBy() != null) {
                    ledger.superseded(id);
                    LOG.info("delivery {} to {} not sent: result {} was superseded by result {} before its turn",
                            id, lane.destination(), d.resultId(), d.supersededBy());
                    return;
                }
                Exporter.Attempt attempt;
                long started = System.nanoTime();
                try {
                    attempt = lane.exporter().attempt(d);
                } catch (Exception e) {
                    attempt = new Exporter.Attempt.Retry(e instanceof TriageException ? e.getMessage()
                            : ErrorCode.DICOM_DELIVERY_FAILED.code() + " " + e, null);
                }
                DeliveryState state = ledger.finish(id, attempt, lane.policy());
                log(d, attempt, state);
                observer.deliveryAttempted(new NodeObserver.DeliveryAttempted(d, lane.exporter().kind(), attempt,
                        state, Duration.ofNanos(System.nanoTime() - started)));
            } catch (TriageException | RuntimeException e) {
                // The ledger could not record it: the claim runs out and the delivery is attempted again.
                LOG.error("{} delivery {} to {}: {}", ErrorCode.NODE_DATABASE_FAILED.code(), id, lane.destination(),
                        e.getMessage());
            } finally {
                if (queued.decrementAndGet() == 0) {
                    refill();
                }
            }
        }

        /** A lane that ran dry looks for more at once rather than at the next tick. */
        private void refill() {
            try {
                dispatchDue();
            } catch (TriageException | RuntimeException e) {
                LOG.warn("{} looking for due deliveries: {}", ErrorCode.NODE_DATABASE_FAILED.code(), e.getMessage());
            }
        }

        private void log(DeliveryLedger.Delivery d, Exporter.Attempt attempt, DeliveryState state) {
            int n = d.attempts() + 1;
            if (attempt instanceof Exporter.Attempt.Delivered delivered) {
                LOG.info("delivery {} to {} (series {}) done in attempt {}{}", d.id(), lane.destination(),
                        d.series().key(), n, delivered.detail() == null || delivered.detail().isEmpty() ? ""
                                : ": " + delivered.detail());
                return;
            }
            String error = attempt instanceof Exporter.Attempt.Retry r ? r.error()
                    : ((Exporter.Attempt.Rejected) attempt).error();
            if (state == DeliveryState.DEAD) {
                LOG.error("{} delivery {} to {} (series {}) moved to the dead letters after attempt {}{}: {}",
                        ErrorCode.DICOM_DEAD_LETTER.code(), d.id(), lane.destination(), d.series().key(), n,
                        attempt instanceof Exporter.Attempt.Rejected ? " (rejected: not retried)" : "", error);
            } else {
                Exporter.Attempt.Retry r = (Exporter.Attempt.Retry) attempt;
                LOG.warn("delivery {} to {} (series {}) attempt {}/{} failed: {}; next attempt in {}{}", d.id(),
                        lane.destination(), d.series().key(), n, lane.policy().maxAttempts(), error,
                        lane.policy().backoff(n, r.after()), r.after() != null ? " (the destination's Retry-After)" : "");
            }
        }
    }
}
