package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The group committer's batching, ordering and failures. Batches are made deterministic by
 * holding the first batch inside its commit until the others are queued; nothing depends on time
 * (the timeout only ends a hung run).
 */
@Timeout(60)
class GroupCommitterTest {
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<List<String>> batches = new CopyOnWriteArrayList<>();
    private final CountDownLatch firstBatchEntered = new CountDownLatch(1);
    private final CountDownLatch releaseFirstBatch = new CountDownLatch(1);

    @AfterEach
    void stop() {
        releaseFirstBatch.countDown();
        threads.shutdownNow();
    }

    /** Records each batch, holds the first until released, fails a batch holding "fail". */
    private List<String> commit(List<String> items) throws Exception {
        batches.add(List.copyOf(items));
        if (batches.size() == 1) {
            firstBatchEntered.countDown();
            releaseFirstBatch.await();
        }
        if (items.contains("fail")) {
            throw new IOException("disk gone");
        }
        List<String> results = new ArrayList<>();
        for (String item : items) {
            results.add(item.toUpperCase() + "@" + batches.size());
        }
        return results;
    }

    /** Submits {@code item} on another thread and returns once it waits in the queue. */
    private Future<String> queue(GroupCommitter<String, String> committer, String item, int expectedQueued) {
        Future<String> f = threads.submit(() -> committer.submit(item));
        while (committer.queued() < expectedQueued) {
            Thread.onSpinWait();
        }
        return f;
    }

    @Test
    void aLoneItemIsCommittedAtOnceOnTheCallersThread() throws Exception {
        List<Thread> committedOn = new ArrayList<>();
        GroupCommitter<String, String> committer = new GroupCommitter<>(items -> {
            committedOn.add(Thread.currentThread());
            return List.of(items.get(0) + "!");
        }, 8);

        assertThat(committer.submit("a")).isEqualTo("a!");
        assertThat(committer.submit("b")).isEqualTo("b!");
        assertThat(committedOn).containsExactly(Thread.currentThread(), Thread.currentThread());
    }

    @Test
    void itemsQueuedWhileABatchCommitsShareTheNextBatchInSubmissionOrder() throws Exception {
        GroupCommitter<String, String> committer = new GroupCommitter<>(this::commit, 8);
        Future<String> a = threads.submit(() -> committer.submit("a"));
        firstBatchEntered.await();
        Future<String> b = queue(committer, "b", 1);
        Future<String> c = queue(committer, "c", 2);
        Future<String> d = queue(committer, "d", 3);

        releaseFirstBatch.countDown();

        assertThat(a.get()).isEqualTo("A@1");
        assertThat(List.of(b.get(), c.get(), d.get())).containsExactly("B@2", "C@2", "D@2");
        assertThat(batches).containsExactly(List.of("a"), List.of("b", "c", "d"));
    }

    @Test
    void aBatchTakesAtMostMaxBatchItemsAndTheRestFollowInOrder() throws Exception {
        GroupCommitter<String, String> committer = new GroupCommitter<>(this::commit, 2);
        Future<String> a = threads.submit(() -> committer.submit("a"));
        firstBatchEntered.await();
        List<Future<String>> rest = new ArrayList<>();
        String[] items = {"b", "c", "d", "e", "f"};
        for (int i = 0; i < items.length; i++) {
            rest.add(queue(committer, items[i], i + 1));
        }

        releaseFirstBatch.countDown();

        a.get();
        for (Future<String> f : rest) {
            f.get();
        }
        assertThat(batches).containsExactly(List.of("a"), List.of("b", "c"), List.of("d", "e"), List.of("f"));
    }

    @Test
    void aFailedBatchFailsEveryCallerInItAndNoOtherBatch() throws Exception {
        GroupCommitter<String, String> committer = new GroupCommitter<>(this::commit, 8);
        Future<String> a = threads.submit(() -> committer.submit("a"));
        firstBatchEntered.await();
        Future<String> b = queue(committer, "b", 1);
        Future<String> fail = queue(committer, "fail", 2);
        Future<String> c = queue(committer, "c", 3);

        releaseFirstBatch.countDown();

        assertThat(a.get()).isEqualTo("A@1");
        for (Future<String> f : List.of(b, fail, c)) {
            assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IOException.class).hasRootCauseMessage("disk gone");
        }
        // The committer carries on: the next batch commits.
        assertThat(committer.submit("d")).isEqualTo("D@3");
        assertThat(batches).containsExactly(List.of("a"), List.of("b", "fail", "c"), List.of("d"));
    }

    @Test
    void aBatchThatReturnsTheWrongNumberOfResultsFailsItsCallers() {
        GroupCommitter<String, String> committer = new GroupCommitter<>(items -> List.of(), 8);

        assertThatThrownBy(() -> committer.submit("a")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("0 results for 1 items");
    }

    @Test
    void anInterruptedCallerStillWaitsForItsBatchAndKeepsTheInterrupt() throws Exception {
        GroupCommitter<String, String> committer = new GroupCommitter<>(this::commit, 8);
        Future<String> a = threads.submit(() -> committer.submit("a"));
        firstBatchEntered.await();
        CompletableFuture<Boolean> interruptedAfter = new CompletableFuture<>();
        CompletableFuture<String> result = new CompletableFuture<>();
        Thread b = new Thread(() -> {
            try {
                result.complete(committer.submit("b"));
            } catch (Exception e) {
                result.completeExceptionally(e);
            }
            interruptedAfter.complete(Thread.currentThread().isInterrupted());
        });
        b.start();
        while (committer.queued() < 1) {
            Thread.onSpinWait();
        }
        b.interrupt();
        // b cannot have returned: its batch has not run.
        assertThat(result).isNotDone();

        releaseFirstBatch.countDown();

        assertThat(a.get()).isEqualTo("A@1");
        assertThat(result.get()).isEqualTo("B@2");
        assertThat(interruptedAfter.get()).isTrue();
    }
}
