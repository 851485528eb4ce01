package org.cttriage.core.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * Proves, at a clustered node's start, that its data folder is the cluster's shared one (the spool every
 * worker reads what every receiver wrote): the database holds the cluster's id and so does the file
 * {@code cluster-id} in the data folder. The first node writes the file, then the row; every later
 * node finds both and they must agree. A node on a folder of its own (a missing mount, a typo in
 * node.data-dir) finds the row but not the file, and refuses to start instead of failing every study
 * it would be given.
 */
public final class SharedDataCheck {
    /** The marker file in the data folder. */
    public static final String FILE = "cluster-id";

    private SharedDataCheck() {
    }

    /**
     * Checks (and on the cluster's first start, makes) the marker.
     *
     * @return the cluster's id
     * @throws TriageException TRIAGE-0612 when the data folder is not the cluster's
     */
    public static String verify(NodeDatabase database, Path dataDirectory, Instant now) throws TriageException {
        Path file = dataDirectory.resolve(FILE);
        Optional<String> known = read(database);
        if (known.isPresent()) {
            String onDisk = readFile(file).orElseThrow(() -> notShared(dataDirectory, "has no " + FILE + " file"));
            if (!onDisk.equals(known.get())) {
                throw notShared(dataDirectory, "holds cluster id " + onDisk + ", the database " + known.get());
            }
            return onDisk;
        }
        // The cluster's first start: the file first (a crash before the row leaves a file the next node adopts).
        String id = readFile(file).orElseGet(() -> UUID.randomUUID().toString());
        try {
            Files.writeString(file, id + "\n", StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW);
        } catch (FileAlreadyExistsException e) {
            id = readFile(file).orElse(id); // another node got there first: its id
        } catch (IOException e) {
            throw new TriageException(ErrorCode.CONFIGURATION_INVALID, "cannot write " + file + ": " + e.getMessage(), e);
        }
        String chosen = id;
        try {
            database.transaction(c -> {
                ClusterRepository.recordClusterId(c, chosen, now);
                return null;
            });
        } catch (TriageException e) {
            // Two first nodes at once: the row that won must be the file's.
            if (read(database).filter(chosen::equals).isEmpty()) {
                throw e;
            }
        }
        return verify(database, dataDirectory, now);
    }

    private static Optional<String> read(NodeDatabase database) throws TriageException {
        return database.transaction(ClusterRepository::clusterId);
    }

    private static Optional<String> readFile(Path file) {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.US_ASCII).trim()).filter(s -> !s.isEmpty());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static TriageException notShared(Path dataDirectory, String why) {
        return new TriageException(ErrorCode.CONFIGURATION_INVALID, "node.data-dir " + dataDirectory.toAbsolutePath()
                + " is not this cluster's shared data folder: it " + why + ". Every node of a cluster must see the same"
                + " folder (a shared file system: docs/architecture.md, Scaling out), or workers cannot read what"
                + " receivers stored");
    }
}
