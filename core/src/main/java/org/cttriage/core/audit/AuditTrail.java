package org.cttriage.core.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.cttriage.core.error.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's audit trail: {@link #record} takes an audit message and returns at once, whatever the
 * collector or the disk are doing. Two threads do the rest:
 * <ol>
 * <li>the <b>writer</b> serialises each message ({@link AuditXml}), appends it to the audit file
 * (one XML document per line, forced to disk per batch) and, when a collector is configured, makes
 * it durable in the {@link AuditSpool} as the RFC 5424 message that will be sent ({@link SyslogFormat});
 * <li>the <b>sender</b> sends the spool to the collector oldest first and removes each message once
 * sent; when the collector is away it keeps them and tries again, from 1 s doubling to 30 s, and
 * resumes with the oldest.
 * </ol>
 *
 * <p>Delivery is at least once for every message that reached the spool: a message is removed only
 * after it was written to a connection that was open at that moment, so one may arrive twice (the
 * connection broke right after the write); see {@link SyslogSender} for the one case syslog itself
 * cannot cover. A message is lost only if the process dies in the moment between {@code record} and
 * the spool (the writer takes it within milliseconds), if the queue before the spool overflows
 * (10,000 messages, {@code TRIAGE-0704}), or when the spool is full ({@code audit.spool-max-mb},
 * {@code TRIAGE-0702}): then new messages are dropped, the oldest kept, and the spool records a
 * Security Alert "Audit Recording Stopped" once, then "Audit Recording Started" with the number
 * dropped when it has room again (below 90 % of the limit). Over UDP (RFC 5426) a sent message is
 * gone whether or not it arrived.
 *
 * <p>Several processes may share one spool (the node and {@code ct-triage dead-letters}): each
 * writes its own messages into it, and whichever holds the spool's sender lock sends them all.
 * Nothing here writes a message, or a part of one, to the operational log: they hold patient data.
 */
public final class AuditTrail implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditTrail.class);
    /** Messages waiting for the writer; beyond this {@link #record} drops (the disk is far behind). */
    static final int QUEUE = 10_000;
    private static final int BATCH = 256;
    private static final int SEND_BATCH = 64;
    private static final Duration LOG_EVERY = Duration.ofMinutes(1);

    private final AuditOptions options;
    private final AuditEvents events;
    private final Clock clock;
    private final BlockingQueue<AuditMessage> queue = new ArrayBlockingQueue<>(QUEUE);
    private final AuditSpool spool;
    private final SyslogFormat format;
    private final ScheduledExecutorService watchdog;
    private final Thread writer;
    private final Thread sender;
    private final Object sendSignal = new Object();
    private final AtomicLong queueDropped = new AtomicLong();
    private volatile boolean accepting = true;
    private volatile boolean writerDone;
    private volatile Instant sendDeadline;
    private FileChannel file;
    // Writer state for a full spool.
    private boolean spoolFull;
    private long spoolDropped;
    private Instant lastFullLog = Instant.MIN;
    // Sender state.
    private Instant lastUnreachableLog = Instant.MIN;
    private volatile boolean pending;

    private AuditTrail(AuditOptions options, AuditEvents events, Clock clock) throws IOException {
        this.options = options;
        this.events = events;
        this.clock = clock;
        this.format = new SyslogFormat(events.reporter().hostName(), events.reporter().processId());
        this.spool = options.syslog().isPresent() ? new AuditSpool(options.spoolDirectory(), options.spoolMaxBytes())
                : null;
        if (options.file().isPresent()) {
            Path f = options.file().get().toAbsolutePath();
            Files.createDirectories(f.getParent());
            file = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        }
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "audit-watchdog"));
        this.writer = daemon(this::writeLoop, "audit-writer");
        this.sender = spool == null ? null : daemon(this::sendLoop, "audit-sender");
    }

    /**
     * Starts the trail; {@code events} builds its own alerts and names this process in the syslog
     * header. Throws when the spool folder or the audit file cannot be opened (a configuration fault).
     */
    public static AuditTrail start(AuditOptions options, AuditEvents events, Clock clock) throws IOException {
        if (!options.enabled()) {
            throw new IllegalArgumentException("no audit destination configured; use AuditTrail.disabled()");
        }
        AuditTrail trail = new AuditTrail(options, events, clock);
        trail.writer.start();
        if (trail.sender != null) {
            trail.sender.start();
        }
        return trail;
    }

    /** A trail that records nothing: no audit destination is configured. */
    public static AuditTrail disabled(AuditEvents events) {
        return new AuditTrail(events);
    }

    private AuditTrail(AuditEvents events) {
        this.options = null;
        this.events = events;
        this.clock = Clock.systemUTC();
        this.spool = null;
        this.format = null;
        this.watchdog = null;
        this.writer = null;
        this.sender = null;
        this.accepting = false;
    }

    /** True when messages go somewhere. */
    public boolean enabled() {
        return writer != null;
    }

    /** The builder of this process's messages. */
    public AuditEvents events() {
        return events;
    }

    /** Takes {@code message} for the trail; never blocks and never throws. */
    public void record(AuditMessage message) {
        if (!accepting) {
            return;
        }
        if (!queue.offer(message)) {
            long n = queueDropped.incrementAndGet();
            if (n == 1 || n % 1000 == 0) {
                LOG.error("{} {} audit message(s) dropped: {} are waiting for the disk", ErrorCode.AUDIT_MESSAGE_DROPPED.code(),
                        n, QUEUE);
            }
        }
    }

    /** Messages in the spool now (sent ones are gone); 0 without a collector. */
    public int spooled() {
        return spool == null ? 0 : spool.count();
    }

    /** Messages taken by {@link #record} that the writer has not finished yet. */
    public int queued() {
        return queue.size() + (pending ? 1 : 0);
    }

    private void writeLoop() {
        List<AuditMessage> batch = new ArrayList<>(BATCH);
        while (accepting || !queue.isEmpty()) {
            try {
                AuditMessage first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                pending = true;
                batch.add(first);
                queue.drainTo(batch, BATCH - 1);
                write(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                LOG.error("{} audit writer: {}", ErrorCode.AUDIT_WRITE_FAILED.code(), e.toString());
            } finally {
                batch.clear();
                pending = false;
            }
        }
        writerDone = true;
        signalSender();
    }

    private void write(List<AuditMessage> batch) {
        List<byte[]> lines = new ArrayList<>(batch.size());
        boolean spooled = false;
        for (AuditMessage m : batch) {
            byte[] xml = AuditXml.write(m);
            if (file != null) {
                lines.add(xml);
            }
            if (spool != null) {
                spooled |= spool(format.message(xml, clock.instant(), m.event().outcome()));
            }
        }
        if (file != null) {
            appendToFile(lines);
        }
        if (spooled) {
            try {
                spool.sync();
            } catch (IOException e) {
                LOG.error("{} audit spool {} not forced to disk: {}", ErrorCode.AUDIT_WRITE_FAILED.code(),
                        spool.directory(), e.toString());
            }
            signalSender();
        }
    }

    /** Spools one message under the size limit; handles the full spool's episode. True when something was spooled. */
    private boolean spool(byte[] message) {
        Instant now = clock.instant();
        try {
            if (spoolFull && spool.bytes() <= spool.maxBytes() * 9 / 10) {
                spoolFull = false;
                String text = "the audit spool takes messages again; " + spoolDropped + " audit message(s) were dropped"
                        + " while it was full";
                LOG.warn("{} {}", ErrorCode.AUDIT_SPOOL_FULL.code(), text);
                spool.add(format.message(AuditXml.write(events.auditRecording(true, spoolUri(), text)), now,
                        AuditMessage.Outcome.SUCCESS), now.toEpochMilli(), true);
                spoolDropped = 0;
            }
            if (!spoolFull && spool.add(message, now.toEpochMilli(), false)) {
                return true;
            }
            spoolDropped++;
            if (!spoolFull) {
                spoolFull = true;
                String text = "the audit spool reached its limit of " + (spool.maxBytes() >> 20) + " MiB ("
                        + spool.maxBytes() + " bytes): new audit messages are dropped until the collector takes the"
                        + " backlog";
                spool.add(format.message(AuditXml.write(events.auditRecording(false, spoolUri(), text)), now,
                        AuditMessage.Outcome.SERIOUS_FAILURE), now.toEpochMilli(), true);
                LOG.error("{} {}", ErrorCode.AUDIT_SPOOL_FULL.code(), text);
                lastFullLog = now;
                return true;
            }
            if (Duration.between(lastFullLog, now).compareTo(LOG_EVERY) >= 0) {
                lastFullLog = now;
                LOG.error("{} the audit spool is full: {} audit message(s) dropped so far", ErrorCode.AUDIT_SPOOL_FULL.code(),
                        spoolDropped);
            }
        } catch (IOException e) {
            LOG.error("{} an audit message could not be spooled in {}: {}", ErrorCode.AUDIT_WRITE_FAILED.code(),
                    spool.directory(), e.toString());
        }
        return false;
    }

    private String spoolUri() {
        return spool.directory().toAbsolutePath().toUri().toString();
    }

    private void appendToFile(List<byte[]> lines) {
        int size = lines.stream().mapToInt(l -> l.length + 1).sum();
        ByteBuffer b = ByteBuffer.allocate(size);
        lines.forEach(l -> b.put(l).put((byte) '\n'));
        b.flip();
        // The lock keeps lines of two processes (the node and a command) from interleaving.
        try (FileLock lock = file.lock()) {
            while (b.hasRemaining()) {
                file.write(b);
            }
            file.force(false);
        } catch (IOException e) {
            LOG.error("{} {} audit message(s) could not be appended to {}: {}", ErrorCode.AUDIT_WRITE_FAILED.code(),
                    lines.size(), options.file().get(), e.toString());
        }
    }

    private void sendLoop() {
        AuditOptions.Syslog target = options.syslog().get();
        Duration wait = options.timing().retryInitial();
        FileLock lock = null;
        try (SyslogSender out = new SyslogSender(target, options.timing(), watchdog)) {
            while (true) {
                if (writerDone && (spool.count() == 0 || clock.instant().isAfter(sendDeadline()))) {
                    break;
                }
                if (lock == null) {
                    lock = spool.trySenderLock();
                    if (lock == null) {
                        // Another process sends this spool (a command beside a running node).
                        if (writerDone) {
                            break;
                        }
                        await(options.timing().poll());
                        continue;
                    }
                }
                List<AuditSpool.Entry> batch = spool.oldest(SEND_BATCH);
                if (batch.isEmpty()) {
                    if (writerDone) {
                        break;
                    }
                    await(options.timing().poll());
                    continue;
                }
                boolean failed = false;
                for (AuditSpool.Entry e : batch) {
                    try {
                        out.send(spool.read(e));
                        spool.remove(e);
                        wait = options.timing().retryInitial();
                    } catch (SyslogSender.TooLongForDatagram tooLong) {
                        LOG.error("{} an audit message was not sent to {}: {}", ErrorCode.AUDIT_MESSAGE_DROPPED.code(),
                                target, tooLong.getMessage());
                        spool.remove(e);
                    } catch (java.nio.file.NoSuchFileException gone) {
                        // already sent and removed (by this process before a restart of the loop)
                    } catch (IOException failure) {
                        unreachable(target, failure);
                        failed = true;
                        break;
                    }
                }
                if (failed) {
                    if (writerDone && clock.instant().isAfter(sendDeadline())) {
                        break;
                    }
                    await(wait);
                    wait = wait.multipliedBy(2).compareTo(options.timing().retryMax()) > 0 ? options.timing().retryMax()
                            : wait.multipliedBy(2);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("{} audit sender stopped: {}", ErrorCode.AUDIT_COLLECTOR_UNREACHABLE.code(), e.toString());
        } finally {
            if (lock != null) {
                try {
                    lock.release();
                    lock.channel().close();
                } catch (IOException ignored) {
                    // the lock goes with the process anyway
                }
            }
        }
    }

    private Instant sendDeadline() {
        Instant d = sendDeadline;
        return d == null ? Instant.MAX : d;
    }

    private void unreachable(AuditOptions.Syslog target, IOException failure) {
        Instant now = clock.instant();
        if (Duration.between(lastUnreachableLog, now).compareTo(LOG_EVERY) >= 0) {
            lastUnreachableLog = now;
            LOG.warn("{} audit collector {}: {}; {} audit message(s) wait in {} and will be sent when it answers",
                    ErrorCode.AUDIT_COLLECTOR_UNREACHABLE.code(), target, failure.getMessage(), spool.count(),
                    spool.directory());
        }
    }

    private void await(Duration d) {
        synchronized (sendSignal) {
            try {
                sendSignal.wait(Math.max(1, d.toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void signalSender() {
        synchronized (sendSignal) {
            sendSignal.notifyAll();
        }
    }

    /**
     * Stops taking messages, writes what was taken, and gives the collector
     * {@link AuditOptions.Timing#closeGrace()} to take the spool; what it has not taken stays
     * spooled for the next start.
     */
    @Override
    public void close() {
        if (writer == null) {
            return;
        }
        accepting = false;
        try {
            writer.join();
            sendDeadline = clock.instant().plus(options.timing().closeGrace());
            signalSender();
            if (sender != null) {
                sender.join(options.timing().closeGrace().toMillis() + options.timing().writeTimeout().toMillis()
                        + options.timing().connectTimeout().toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        watchdog.shutdownNow();
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                LOG.warn("{} closing the audit file: {}", ErrorCode.AUDIT_WRITE_FAILED.code(), e.toString());
            }
        }
        if (spool != null && spool.count() > 0) {
            LOG.info("{} audit message(s) stay in {} for the next start", spool.count(), spool.directory());
        }
    }

    private static Thread daemon(Runnable body, String name) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }
}
