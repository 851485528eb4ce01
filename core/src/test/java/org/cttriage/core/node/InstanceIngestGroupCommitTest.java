package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.cttriage.core.dicom.net.DimseStatus;
import org.cttriage.core.dicom.net.ReceivedInstance;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit in InstanceIngest over real DICOM files and the node's H2 schema: instances that
 * arrive while a commit runs share the next one; a failed commit answers every instance of its
 * batch with an error and keeps nothing of it, and nothing else is lost. The first batch is held
 * inside its database commit until the others are queued, so the batches are deterministic.
 */
@Timeout(120)
class InstanceIngestGroupCommitTest {
    @TempDir
    Path dir;

    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final AtomicInteger commits = new AtomicInteger();
    private final AtomicInteger failCommits = new AtomicInteger();
    private volatile CountDownLatch holdNextCommit;
    private final CountDownLatch commitHeld = new CountDownLatch(1);
    private NodeDatabase database;
    private InstanceIngest ingest;
    private List<Path> files;
    private SeriesKey series;

    @BeforeEach
    void setUp() throws Exception {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:" + dir.resolve("db/node").toAbsolutePath());
        new NodeDatabase(h2).migrate();
        database = new NodeDatabase(hooked(h2));
        ingest = new InstanceIngest(database, dir.resolve("spool"), NonCtPolicy.IGNORE,
                DuplicatePolicy.IGNORE_IDENTICAL_KEEP_NEWER, Clock.systemUTC());
        files = PhantomSeries.write(41, 32, 6, 5, dir.resolve("series")).files();
    }

    @AfterEach
    void tearDown() {
        CountDownLatch hold = holdNextCommit;
        if (hold != null) {
            hold.countDown();
        }
        threads.shutdownNow();
        ingest.close();
    }

    @Test
    void instancesArrivingDuringACommitShareTheNextCommitAndAreAllRecorded() throws Exception {
        Future<InstanceIngest.Outcome> first = holdFirstCommit(files.get(0));
        List<Future<InstanceIngest.Outcome>> rest = queue(files.subList(1, 6));

        release();

        assertThat(first.get().status()).isEqualTo(DimseStatus.SUCCESS);
        series = first.get().changedSeries();
        for (Future<InstanceIngest.Outcome> f : rest) {
            assertThat(f.get()).isEqualTo(new InstanceIngest.Outcome(DimseStatus.SUCCESS, series));
        }
        assertThat(commits.get()).as("one commit for the first instance, one for the five queued").isEqualTo(2);
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isEqualTo(6);
        assertThat(count("SELECT instances FROM node_series")).isEqualTo(6);
        for (Path f : files) {
            assertThat(spooled(f)).exists().hasSameBinaryContentAs(f);
        }
        assertThat(Files.list(dir.resolve("incoming")).toList()).isEmpty();
    }

    @Test
    void aFailedCommitFailsEveryInstanceOfItsBatchKeepsNothingOfItAndLosesNothingElse() throws Exception {
        assertThat(ingest.ingest(received(files.get(0))).status()).isEqualTo(DimseStatus.SUCCESS);
        Future<InstanceIngest.Outcome> held = holdFirstCommit(files.get(1));
        List<Future<InstanceIngest.Outcome>> batch = queue(files.subList(2, 4));
        failCommits.set(1);

        release();

        assertThat(held.get().status()).isEqualTo(DimseStatus.SUCCESS);
        for (Future<InstanceIngest.Outcome> f : batch) {
            assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class).cause()
                    .isInstanceOfSatisfying(TriageException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.NODE_DATABASE_FAILED));
        }
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isEqualTo(2);
        assertThat(count("SELECT instances FROM node_series")).isEqualTo(2);
        assertThat(spooled(files.get(0))).exists();
        assertThat(spooled(files.get(1))).exists();
        assertThat(spooled(files.get(2))).doesNotExist();
        assertThat(spooled(files.get(3))).doesNotExist();

        // The PACS resends: the committer took a new connection and records them.
        for (Path f : files.subList(2, 4)) {
            assertThat(ingest.ingest(received(f)).status()).isEqualTo(DimseStatus.SUCCESS);
        }
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isEqualTo(4);
        assertThat(count("SELECT instances FROM node_series")).isEqualTo(4);
    }

    @Test
    void theSameInstanceTwiceInOneBatchIsDecidedAgainstTheFirstCopy() throws Exception {
        Path changed = Files.copy(files.get(1), dir.resolve("changed.dcm"));
        byte[] bytes = Files.readAllBytes(changed);
        bytes[bytes.length - 1] ^= 0x01;   // one pixel differs
        Files.write(changed, bytes);
        Future<InstanceIngest.Outcome> first = holdFirstCommit(files.get(0));
        List<Future<InstanceIngest.Outcome>> batch = queue(List.of(files.get(1), files.get(1), changed));

        release();

        series = first.get().changedSeries();
        for (Future<InstanceIngest.Outcome> f : batch) {
            // new; identical duplicate (series still receiving: signalled again); newer bytes kept
            assertThat(f.get()).isEqualTo(new InstanceIngest.Outcome(DimseStatus.SUCCESS, series));
        }
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isEqualTo(2);
        assertThat(count("SELECT MAX(revision) FROM node_instance")).isEqualTo(2);
        assertThat(count("SELECT instances FROM node_series")).isEqualTo(2);
        assertThat(spooled(files.get(1))).hasSameBinaryContentAs(changed);
    }

    /** Ingests {@code file} on another thread; its commit waits in the database until {@link #release()}. */
    private Future<InstanceIngest.Outcome> holdFirstCommit(Path file) throws Exception {
        holdNextCommit = new CountDownLatch(1);
        ReceivedInstance instance = received(file);
        Future<InstanceIngest.Outcome> f = threads.submit(() -> ingest.ingest(instance));
        commitHeld.await();
        return f;
    }

    /** Ingests each file on its own thread, one after the other, each queued for the next commit. */
    private List<Future<InstanceIngest.Outcome>> queue(List<Path> batch) throws Exception {
        List<Future<InstanceIngest.Outcome>> futures = new ArrayList<>();
        for (Path file : batch) {
            ReceivedInstance instance = received(file);
            int before = ingest.waitingForCommit();
            futures.add(threads.submit(() -> ingest.ingest(instance)));
            while (ingest.waitingForCommit() == before) {
                Thread.onSpinWait();
            }
        }
        return futures;
    }

    private void release() {
        holdNextCommit.countDown();
    }

    /** The data source with a hook on commit: counts, holds one commit, fails the next ones on demand. */
    private DataSource hooked(DataSource real) {
        return new DataSource() {
            @Override
            public Connection getConnection() throws SQLException {
                Connection c = real.getConnection();
                return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                        (proxy, method, args) -> {
                            if (method.getName().equals("commit")) {
                                CountDownLatch hold = holdNextCommit;
                                boolean held = hold != null && hold.getCount() > 0;
                                if (held) {
                                    commitHeld.countDown();
                                    hold.await();
                                }
                                commits.incrementAndGet();
                                if (!held && failCommits.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                                    throw new SQLException("injected commit failure");
                                }
                            }
                            try {
                                return method.invoke(c, args);
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                        });
            }

            @Override
            public Connection getConnection(String user, String password) throws SQLException {
                return getConnection();
            }

            @Override
            public PrintWriter getLogWriter() {
                return null;
            }

            @Override
            public void setLogWriter(PrintWriter out) {
            }

            @Override
            public void setLoginTimeout(int seconds) {
            }

            @Override
            public int getLoginTimeout() {
                return 0;
            }

            @Override
            public Logger getParentLogger() {
                return Logger.getGlobal();
            }

            @Override
            public <T> T unwrap(Class<T> iface) throws SQLException {
                throw new SQLException("not a wrapper");
            }

            @Override
            public boolean isWrapperFor(Class<?> iface) {
                return false;
            }
        };
    }

    /** A copy of {@code file} as the listener hands it over (a .part the ingest moves or deletes). */
    private ReceivedInstance received(Path file) throws Exception {
        Path part = Files.createDirectories(dir.resolve("incoming")).resolve(UUID.randomUUID() + ".part");
        Files.copy(file, part);
        AttributeList list = new AttributeList();
        list.read(file.toString());
        return new ReceivedInstance(part, list.get(TagFromName.SOPClassUID).getSingleStringValueOrEmptyString(),
                list.get(TagFromName.SOPInstanceUID).getSingleStringValueOrEmptyString(),
                list.get(TagFromName.TransferSyntaxUID).getSingleStringValueOrEmptyString(), "STORESCU", null,
                Files.size(part));
    }

    private Path spooled(Path file) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toString());
        return dir.resolve("spool").resolve(list.get(TagFromName.StudyInstanceUID).getSingleStringValueOrEmptyString())
                .resolve(list.get(TagFromName.SeriesInstanceUID).getSingleStringValueOrEmptyString())
                .resolve(list.get(TagFromName.SOPInstanceUID).getSingleStringValueOrEmptyString() + ".dcm");
    }

    private long count(String sql) throws Exception {
        try (Connection c = database.dataSource().getConnection(); PreparedStatement s = c.prepareStatement(sql);
             ResultSet r = s.executeQuery()) {
            r.next();
            return r.getLong(1);
        }
    }
}
