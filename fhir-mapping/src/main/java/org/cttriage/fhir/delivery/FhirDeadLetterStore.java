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
 * The FHIR dead-letter folder of the versions before the delivery model ({@code fhir.dead-letter-dir}): bundles
 * that were not delivered, one JSON file each, with the metadata of {@link DeadLetter} and the bundle under
 * {@code "bundle"}. Nothing writes here any more (a FHIR delivery that gives up is a dead letter in the node's
 * delivery ledger, like every other kind); this class lets {@code ct-triage dead-letters} list what is left in
 * the folder, send an entry again and remove it once delivered or discarded, so that no bundle dead-lettered by
 * an earlier version is lost.
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
}
