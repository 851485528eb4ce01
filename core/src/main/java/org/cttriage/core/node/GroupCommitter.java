package org.cttriage.core.node;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit: callers on several threads each submit one item and block until a batch that
 * holds it has been committed; one batch commits at a time, and it takes every item queued
 * meanwhile (up to a maximum), in the order submitted. The committer is whichever submitting
 * thread finds no batch running (leader/follower, as databases group their log flushes): a lone
 * caller commits its own item at once with no hand-off to another thread, and callers that arrive
 * while a batch runs share the next batch's cost (its fsyncs, its database commit).
 *
 * <p>A batch's commit returns one result per item, in order; per-item failures belong in the
 * result type. When the commit throws, every caller of that batch gets the exception and nothing
 * else is affected: the next batch starts afresh. A caller never returns before its item's batch
 * has finished, even when interrupted (it keeps the interrupt flag), because its answer depends on
 * that batch.
 *
 * @param <T> what is submitted
 * @param <R> the result of one item
 */
final class GroupCommitter<T, R> {
    /** Commits a batch: one result per item, in the items' order. */
    @FunctionalInterface
    interface Batch<T, R> {
        List<R> commit(List<T> items) throws Exception;
    }

    private static final class Slot<T, R> {
        final T item;
        boolean done;
        R result;
        Exception failure;

        Slot(T item) {
            this.item = item;
        }
    }

    private final Batch<T, R> batch;
    private final int maxBatch;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition finished = lock.newCondition();
    private final ArrayDeque<Slot<T, R>> queue = new ArrayDeque<>();
    private boolean committing;

    /**
     * @param batch commits one batch
     * @param maxBatch the most items in one batch (at least 1)
     */
    GroupCommitter(Batch<T, R> batch, int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be at least 1: " + maxBatch);
        }
        this.batch = batch;
        this.maxBatch = maxBatch;
    }

    /** Queues {@code item}, waits until its batch has committed, and returns its result. */
    R submit(T item) throws Exception {
        Slot<T, R> slot = new Slot<>(item);
        boolean interrupted = false;
        lock.lock();
        try {
            queue.addLast(slot);
            while (!slot.done) {
                if (!committing) {
                    commitQueued();
                } else {
                    try {
                        finished.await();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
        } finally {
            lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (slot.failure != null) {
            throw slot.failure;
        }
        return slot.result;
    }

    /** Called with the lock held; runs one batch with the lock released, then wakes every waiter. */
    private void commitQueued() {
        List<Slot<T, R>> slots = new ArrayList<>(Math.min(queue.size(), maxBatch));
        while (!queue.isEmpty() && slots.size() < maxBatch) {
            slots.add(queue.pollFirst());
        }
        committing = true;
        lock.unlock();
        List<R> results = null;
        Exception failure = null;
        try {
            List<T> items = new ArrayList<>(slots.size());
            for (Slot<T, R> s : slots) {
                items.add(s.item);
            }
            results = batch.commit(items);
            if (results == null || results.size() != slots.size()) {
                failure = new IllegalStateException("batch returned " + (results == null ? "no" : results.size())
                        + " results for " + slots.size() + " items");
            }
        } catch (Exception e) {
            failure = e;
        } catch (Error e) {
            failure = new IllegalStateException("batch failed: " + e, e);
            throw e;
        } finally {
            lock.lock();
            committing = false;
            for (int i = 0; i < slots.size(); i++) {
                Slot<T, R> s = slots.get(i);
                if (failure != null) {
                    s.failure = failure;
                } else {
                    s.result = results.get(i);
                }
                s.done = true;
            }
            finished.signalAll();
        }
    }

    /** Items waiting for a batch (not the running one); for tests. */
    int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }
}
