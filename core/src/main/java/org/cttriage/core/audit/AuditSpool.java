package org.cttriage.core.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Audit messages waiting for the collector, durably: one file per message, written to a temporary
 * name, forced to disk and renamed ({@link #add}), the folder itself forced once per batch
 * ({@link #sync}). File names sort in the order messages were made
 * ({@code <epoch ms>-<pid>-<counter>.msg}), across the processes that share the folder (the node and
 * {@code ct-triage dead-letters}), so the oldest goes first. A message leaves the spool only after
 * it was sent ({@link #remove}). The size limit is checked against what the folder held at the last
 * {@link #oldest} listing plus what this process added since.
 */
final class AuditSpool {
    private static final String SUFFIX = ".msg";
    private static final String LOCK = ".sender.lock";

    private final Path dir;
    private final long maxBytes;
    private final long pid = ProcessHandle.current().pid();
    private long counter;
    private long lastMillis;
    private long bytes;
    private int count;

    /** A spooled message. */
    record Entry(Path file, long bytes) {
    }

    AuditSpool(Path dir, long maxBytes) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.maxBytes = maxBytes;
        try (Stream<Path> tmp = Files.list(dir)) {
            // A temporary file is a message whose write did not finish: it was never spooled.
            for (Path p : tmp.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) {
                Files.deleteIfExists(p);
            }
        }
        oldest(0);
    }

    Path directory() {
        return dir;
    }

    long maxBytes() {
        return maxBytes;
    }

    /**
     * Spools {@code message} unless that would take the spool past its limit ({@code force} spools it
     * regardless: the node's own "audit recording stopped" alert). Returns false when it was not spooled.
     */
    synchronized boolean add(byte[] message, long millis, boolean force) throws IOException {
        if (!force && bytes + message.length > maxBytes) {
            return false;
        }
        lastMillis = Math.max(lastMillis, millis);
        String name = String.format("%013d-%010d-%012d", lastMillis, pid, counter++);
        Path tmp = dir.resolve(name + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(message);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(false);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        try {
            Files.move(tmp, dir.resolve(name + SUFFIX), StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, dir.resolve(name + SUFFIX));
        }
        bytes += message.length;
        count++;
        return true;
    }

    /** Forces the folder's entries (the renames of {@link #add}) to disk. */
    void sync() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** The oldest {@code n} messages; also recounts the spool (messages other processes added). */
    synchronized List<Entry> oldest(int n) throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
        }
        List<Entry> entries = new ArrayList<>();
        long total = 0;
        int found = 0;
        for (Path f : files) {
            long size;
            try {
                size = Files.size(f);
            } catch (NoSuchFileException gone) {
                continue;
            }
            total += size;
            found++;
            if (entries.size() < n) {
                entries.add(new Entry(f, size));
            }
        }
        bytes = total;
        count = found;
        return entries;
    }

    byte[] read(Entry e) throws IOException {
        return Files.readAllBytes(e.file());
    }

    /** The message was sent: it leaves the spool. */
    synchronized void remove(Entry e) throws IOException {
        if (Files.deleteIfExists(e.file())) {
            bytes -= e.bytes();
            count--;
        }
    }

    synchronized long bytes() {
        return bytes;
    }

    synchronized int count() {
        return count;
    }

    /**
     * The right to send the spool, held by one process at a time (the node; a command when no node
     * runs); null when another holds it.
     */
    FileLock trySenderLock() throws IOException {
        FileChannel ch = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            FileLock lock = ch.tryLock();
            if (lock == null) {
                ch.close();
            }
            return lock;
        } catch (OverlappingFileLockException e) {
            // another trail in this JVM holds it (a test running a node and a command together)
            ch.close();
            return null;
        }
    }
}
