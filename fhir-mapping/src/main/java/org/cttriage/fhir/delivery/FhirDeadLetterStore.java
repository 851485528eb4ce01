package org.cttriage.fhir.delivery;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.hl7.fhir.r4.model.Bundle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bundles that could not be delivered, one JSON file each in one directory, so that nothing is lost and an
 * operator (or a scheduled job) can retry them once the cause is fixed.
 *
 * <p>File {@code <id>.json} holds the metadata of {@link DeadLetter} and the bundle itself under {@code "bundle"}
 * ({@code jq .bundle <id>.json} gives the FHIR JSON). One file rather than a bundle file and a metadata file, so
 * that one atomic rename publishes both. Writes go to a {@code .part} file that is fsynced, then renamed over the
 * entry, then the directory is fsynced: a crash leaves the old entry or the new one, never half of one. The
 * directory is created owner-only and the files are owner-only where the file system has POSIX permissions: a
 * bundle names a patient. The id derives from the correlation id and a hash of the bundle, so the same bundle
 * dead-lettered twice updates one entry.
 *
 * <p>Thread-safe for distinct bundles; two processes retrying the same entry at once both re-send it, which the
 * bundle's conditional creates make harmless.
 */
public final class FhirDeadLetterStore {
    private static final Logger LOG = LoggerFactory.getLogger(FhirDeadLetterStore.class);
    /** Decimals kept exactly as written (0.9300 stays 0.9300: FHIR decimals carry their precision). */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();
    static final String FORMAT = "ct-triage-fhir-dead-letter/1";
    private static final String SUFFIX = ".json";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,150}");

    private final Path dir;
    private final FhirContext context;

    /** A store in {@code dir} (created when the first bundle is written); {@code context} is the process's R4 context. */
    public FhirDeadLetterStore(Path dir, FhirContext context) {
        this.dir = dir;
        this.context = context;
    }

    /** The directory of this store. */
    public Path directory() {
        return dir;
    }

    /**
     * Every readable entry, oldest first attempt first; an empty list when the directory does not exist yet. An
     * unreadable file is logged (TRIAGE-0507) and left out.
     */
    public List<DeadLetter> list() throws TriageException {
        List<DeadLetter> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                String id = name.substring(0, name.length() - SUFFIX.length());
                if (ID.matcher(id).matches()) {
                    try {
                        out.add(metadata(id, readTree(id)));
                    } catch (TriageException e) {
                        // One damaged file must not hide (or block retrying) the others; it stays for a person.
                        LOG.warn("{}; skipped", e.getMessage());
                    }
                }
            }
        } catch (IOException e) {
            throw new TriageException(ErrorCode.FHIR_DEAD_LETTER_IO, "cannot list dead letters in " + dir, e);
        }
        out.sort(Comparator.comparing(DeadLetter::firstAttempt).thenComparing(DeadLetter::id));
        return out;
    }

    /** The entry {@code id}, or empty when there is none. */
    public Optional<DeadLetter> read(String id) throws TriageException {
        checkId(id);
        if (!Files.exists(file(id))) {
            return Optional.empty();
        }
        return Optional.of(metadata(id, readTree(id)));
    }

    /** The bundle of entry {@code id}. */
    public Bundle bundle(String id) throws TriageException {
        checkId(id);
        JsonNode bundle = readTree(id).get("bundle");
        if (bundle == null || !bundle.isObject()) {
            throw new TriageException(ErrorCode.FHIR_DEAD_LETTER_IO, "dead letter " + id + " in " + dir + " has no bundle");
        }
        try {
            return context.newJsonParser().parseResource(Bundle.class, bundle.toString());
        } catch (DataFormatException e) {
            throw new TriageException(ErrorCode.FHIR_DEAD_LETTER_IO, "dead letter " + id + " in " + dir
                    + " holds an unreadable bundle", e);
        }
    }

    /** Deletes entry {@code id}; false when there was none. */
    public boolean delete(String id) throws TriageException {
        checkId(id);
        try {
            boolean deleted = Files.deleteIfExists(file(id));
            if (deleted) {
                syncDirectory();
                LOG.info("dead letter {} deleted from {}", id, dir);
            }
            return deleted;
        } catch (IOException e) {
            throw new TriageException(ErrorCode.FHIR_DEAD_LETTER_IO, "cannot delete dead letter " + id + " in " + dir, e);
        }
    }

    /**
     * Sends entry {@code id} again with {@code delivery} (its retries, authentication and validation) and deletes
     * it once delivered; otherwise the entry is updated (attempts added, last attempt, status and error), never
     * duplicated. The bundle's conditional creates make a re-send of a bundle that the server had in fact stored
     * create nothing new.
     *
     * @throws TriageException TRIAGE-0507 when there is no such entry or it cannot be read or updated
     */
    public DeliveryResult retry(String id, FhirDelivery delivery) throws TriageException {
        DeadLetter letter = read(id).orElseThrow(() -> new TriageException(ErrorCode.FHIR_DEAD_LETTER_IO,
                "no dead letter " + id + " in " + dir));
        Bundle bundle = bundle(id);
        LOG.info("[{}] retrying dead letter {} ({} attempt(s) so far)", letter.correlationId(), id, letter.attempts());
        FhirDelivery.Outcome o = delivery.attempt(bundle, letter.correlationId());
        if (o.kind() == FhirDelivery.Outcome.Kind.DELIVERED) {
            delete(id);
            return new DeliveryResult.Delivered(o.response(), o.attempts());
        }
        write(id, letter.correlationId(), bundle, o, letter);
        return o.result(id);
    }

    /** {@link #retry} of every entry, oldest first; the results by id. Stops at nothing but a store failure. */
    public Map<String, DeliveryResult> retryAll(FhirDelivery delivery) throws TriageException {
        Map<String, DeliveryResult> results = new LinkedHashMap<>();
        for (DeadLetter d : list()) {
            results.put(d.id(), retry(d.id(), delivery));
        }
        return results;
    }

    /** Writes (or updates) the entry of {@code bundle} after the failed delivery {@code o}; returns its id. */
    String put(String correlationId, Bundle bundle, FhirDelivery.Outcome o) throws TriageException {
        String json = context.newJsonParser().encodeResourceToString(bundle);
        String id = idFor(correlationId, json);
        DeadLetter previous;
        try {
            previous = read(id).orElse(null);
        } catch (TriageException e) {
            // An unreadable old entry must not keep this bundle from being stored: the new entry replaces it.
            LOG.warn("{}; replacing it", e.getMessage());
            previous = null;
        }
        write(id, correlationId, json, o, previous);
        return id;
    }

    private void write(String id, String correlationId, Bundle bundle, FhirDelivery.Outcome o, DeadLetter previous)
            throws TriageException {
        write(id, correlationId, context.newJsonParser().encodeResourceToString(bundle), o, previous);
    }

    private void write(String id, String correlationId, String bundleJson, FhirDelivery.Outcome o, DeadLetter previous)
            throws TriageException {
        ObjectNode n = JSON.createObjectNode();
        n.put("format", FORMAT);
        n.put("id", id);
        n.put("correlationId", correlationId);
        Instant first = previous != null && previous.firstAttempt().isBefore(o.firstAttempt())
                ? previous.firstAttempt() : o.firstAttempt();
        n.put("firstAttempt", first.toString());
        n.put("lastAttempt", o.lastAttempt().toString());
        n.put("attempts", o.attempts() + (previous == null ? 0 : previous.attempts()));
        if (o.lastStatus() == 0) {
            n.putNull("lastStatus");
        } else {
            n.put("lastStatus", o.lastStatus());
        }
        n.put("lastError", o.lastError());
        // An interrupted thread (a host shutting down) must still store the bundle: NIO channels refuse to work
        // while the interrupt flag is set, so it is cleared for the write and set again after.
        boolean interrupted = Thread.interrupted();
        try {
            n.set("bundle", JSON.readTree(bundleJson));
            byte[] bytes = JSON.writeValueAsBytes(n);
            createDirectory();
            Path part = dir.resolve(id + SUFFIX + "." + UUID.randomUUID() + ".part");
            try {
                try (FileChannel ch = FileChannel.open(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    ownerOnly(part, "rw-------");
                    ByteBuffer buf = ByteBuffer.wrap(bytes);
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                    ch.force(true);
                }
                Files.move(part, file(id), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                Files.deleteIfExists(part);
                throw e;
            }
            syncDirectory();
        } catch (IOException e) {
            throw new TriageException(ErrorCode.FHIR_DEAD_LETTER_IO, "cannot write dead letter " + id + " in " + dir
                    + "; the bundle of " + correlationId + " is NOT stored", e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void createDirectory() throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Files.createDirectories(dir);
        ownerOnly(dir, "rwx------");
    }

    private static void ownerOnly(Path p, String perms) throws IOException {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system (Windows): the directory's ACL applies.
        }
    }

    /** Makes a rename or delete durable: on Linux the directory entry is only on disk once the directory is fsynced. */
    private void syncDirectory() {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some platforms (Windows) cannot open a directory; there, the rename itself is what they offer.
            LOG.debug("cannot fsync directory {}: {}", dir, e.toString());
        }
    }

    private JsonNode readTree(String id) throws TriageException {
        try {
            JsonNode n = JSON.readTree(Files.readAllBytes(file(id)));
            if (n == null || !FORMAT.equals(n.path("format").asText())) {
                throw new TriageException(ErrorCode.FHIR_DEAD_LETTER_IO, "dead letter " + id + " in " + dir
                        + " is not in format " + FORMAT);
            }
            return n;
        } catch (NoSuchFileException e) {
            throw new TriageException(ErrorCode.FHIR_DEAD_LETTER_IO, "no dead letter " + id + " in " + dir, e);
        } catch (IOException e) {
            throw new TriageException(ErrorCode.FHIR_DEAD_LETTER_IO, "cannot read dead letter " + id + " in " + dir, e);
        }
    }

    private DeadLetter metadata(String id, JsonNode n) throws TriageException {
        try {
            return new DeadLetter(id, n.path("correlationId").asText(), Instant.parse(n.path("firstAttempt").asText()),
                    Instant.parse(n.path("lastAttempt").asText()), n.path("attempts").asInt(),
                    n.path("lastStatus").asInt(0), n.path("lastError").asText());
        } catch (DateTimeParseException e) {
            throw new TriageException(ErrorCode.FHIR_DEAD_LETTER_IO, "dead letter " + id + " in " + dir
                    + " has unreadable attempt times", e);
        }
    }

    private Path file(String id) {
        return dir.resolve(id + SUFFIX);
    }

    /** Ids are file names this store made: anything else (a path, "..") is refused before touching the disk. */
    private void checkId(String id) throws TriageException {
        if (id == null || !ID.matcher(id).matches()) {
            throw new TriageException(ErrorCode.FHIR_DEAD_LETTER_IO, "'" + id + "' is not a dead-letter id (letters,"
                    + " digits, '.', '_' and '-')");
        }
    }

    /** The id of a bundle: its correlation id made file-name safe, and 16 hex digits of the bundle's SHA-256. */
    static String idFor(String correlationId, String bundleJson) {
        String safe = correlationId.replaceAll("[^A-Za-z0-9._-]+", "_");
        if (safe.length() > 120) {
            // UIDs differ at their end: keep that.
            safe = safe.substring(safe.length() - 120);
        }
        safe = safe.replaceAll("^[._-]+", "");
        String hash;
        try {
            hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(bundleJson.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
        return safe.isEmpty() ? hash : safe + "-" + hash;
    }
}
