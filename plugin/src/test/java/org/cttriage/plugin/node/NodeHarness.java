package org.cttriage.plugin.node;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.StoreScp;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * A node on its embedded H2 with a storescp PACS as its one destination, for the tests that send
 * it studies (bad data, fuzz): start, restart, storescu to it, and read back what it did.
 */
final class NodeHarness implements AutoCloseable {
    private final Path dir;
    private final InferenceEngine engine;
    private final ExecutorService pool;
    private final StoreScp pacs;
    private final JdbcConnectionPool dataSource;
    private TriageNode node;

    private NodeHarness(Path dir, InferenceEngine engine, ExecutorService pool) throws Exception {
        this.dir = dir;
        this.engine = engine;
        this.pool = pool;
        this.pacs = StoreScp.start("PACS", dir.resolve("pacs"));
        this.dataSource = JdbcConnectionPool.create("jdbc:h2:" + dir.resolve("node/db/node").toAbsolutePath(), "sa", "");
        this.node = startNode();
    }

    /** A node with a 1 s quiet period, its data in {@code dir/node}, the PACS's files in {@code dir/pacs}. */
    static NodeHarness start(Path dir, InferenceEngine engine, ExecutorService pool) throws Exception {
        return new NodeHarness(dir, engine, pool);
    }

    private TriageNode startNode() throws Exception {
        return TriageNode.start(TriageNode.Config.defaults("CTTRIAGE", 0, dir.resolve("node"),
                                List.of(Destination.dicom("pacs", new RemoteAe("PACS", "127.0.0.1", pacs.port()))))
                        .withQuietPeriod(Duration.ofSeconds(1)),
                dataSource, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool, Optional.empty(),
                Clock.systemUTC());
    }

    TriageNode node() {
        return node;
    }

    /** Closes the node (the database stays) and starts it again, as after a restart. */
    void restart() throws Exception {
        node.close();
        node = startNode();
    }

    /** dcmtk storescu (verbose) of {@code files} to the node on one association. */
    ExternalCommand.Result storescu(List<Path> files) throws Exception {
        List<String> command = new ArrayList<>(Arrays.asList("storescu", "-v", "-aet", "STORESCU", "-aec", "CTTRIAGE",
                "127.0.0.1", Integer.toString(node.port())));
        files.forEach(f -> command.add(f.toString()));
        return ExternalCommand.run(Duration.ofSeconds(60), command);
    }

    /** The SRs the PACS has received. */
    List<Path> srFiles() throws Exception {
        return pacs.receivedFiles().stream().filter(p -> p.getFileName().toString().startsWith("SR")).toList();
    }

    /** The single number a {@code SELECT COUNT(*) …} answers. */
    int rows(String countQuery) throws Exception {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(countQuery);
             ResultSet r = s.executeQuery()) {
            r.next();
            return r.getInt(1);
        }
    }

    /** The first column of the first row {@code query} answers with {@code parameter}, or null. */
    String first(String query, String parameter) throws Exception {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(query)) {
            s.setString(1, parameter);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getString(1) : null;
            }
        }
    }

    static String studyOf(Path file) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toString());
        return Attribute.getSingleStringValueOrEmptyString(list, TagFromName.StudyInstanceUID);
    }

    @Override
    public void close() throws Exception {
        node.close();
        dataSource.dispose();
        pacs.close();
    }
}
