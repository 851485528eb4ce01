package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.cttriage.core.error.TriageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A clustered node proves at start that its data folder is the cluster's shared one. */
class SharedDataCheckTest {
    private static final Instant NOW = Instant.parse("2026-12-04T09:00:00Z");

    @TempDir
    Path dir;

    @Test
    void nodesOnTheSharedFolderAgreeAndANodeOnAnotherFolderRefusesToStart() throws Exception {
        NodeDatabase database = TestDatabases.migratedH2(dir);
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Path own = Files.createDirectories(dir.resolve("own"));

        String id = SharedDataCheck.verify(database, shared, NOW);
        assertThat(Files.readString(shared.resolve(SharedDataCheck.FILE)).trim()).isEqualTo(id);
        assertThat(SharedDataCheck.verify(database, shared, NOW)).as("a second node on the share").isEqualTo(id);

        assertThatThrownBy(() -> SharedDataCheck.verify(database, own, NOW)).isInstanceOf(TriageException.class)
                .hasMessageContaining("TRIAGE-0612").hasMessageContaining("not this cluster's shared data folder")
                .hasMessageContaining("has no cluster-id");
        Files.writeString(own.resolve(SharedDataCheck.FILE), "another-cluster\n");
        assertThatThrownBy(() -> SharedDataCheck.verify(database, own, NOW)).hasMessageContaining("another-cluster");
    }

    @Test
    void aFileLeftByAFirstNodeThatDiedBeforeItsRowIsAdopted() throws Exception {
        NodeDatabase database = TestDatabases.migratedH2(dir);
        Path shared = Files.createDirectories(dir.resolve("shared2"));
        Files.writeString(shared.resolve(SharedDataCheck.FILE), "0b3f9d0c-1111-4222-8333-444455556666\n");
        assertThat(SharedDataCheck.verify(database, shared, NOW)).isEqualTo("0b3f9d0c-1111-4222-8333-444455556666");
    }
}
