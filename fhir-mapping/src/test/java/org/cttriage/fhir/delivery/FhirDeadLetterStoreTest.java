package org.cttriage.fhir.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.cttriage.fhir.delivery.Fixtures.CTX;
import static org.cttriage.fhir.delivery.Fixtures.T0;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The legacy FHIR dead-letter folder, read only: entries as the versions before the delivery model wrote them
 * (written here by hand, in FhirDeadLetterStore.FORMAT) are listed, read, re-read as bundles and deleted.
 */
class FhirDeadLetterStoreTest {
    /** Decimals kept as written (0.9300 stays 0.9300), as the earlier versions wrote them. */
    static final ObjectMapper JSON = JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES).build();
    static final String ERROR = "TRIAGE-0501 HTTP 503 from http://127.0.0.1/fhir";

    @TempDir
    Path dir;

    /** Writes entry {@code id} as an earlier version did: the metadata of DeadLetter and the bundle. */
    Path legacyEntry(String id, String correlationId, int attempts, int firstAttemptSecond) throws Exception {
        ObjectNode n = JSON.createObjectNode();
        n.put("format", FhirDeadLetterStore.FORMAT);
        n.put("correlationId", correlationId);
        n.put("firstAttempt", T0.plusSeconds(firstAttemptSecond).toString());
        n.put("lastAttempt", T0.plusSeconds(firstAttemptSecond + attempts).toString());
        n.put("attempts", attempts);
        n.put("lastStatus", 503);
        n.put("lastError", ERROR);
        n.set("bundle", JSON.readTree(Fixtures.json(Fixtures.bundle())));
        Files.createDirectories(dir);
        Path f = dir.resolve(id + ".json");
        Files.writeString(f, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
        return f;
    }

    @Test
    void aMissingDirectoryHoldsNothing() throws Exception {
        assertThat(new FhirDeadLetterStore(dir.resolve("absent"), CTX).list()).isEmpty();
        assertThat(new FhirDeadLetterStore(dir.resolve("absent"), CTX).read("x")).isEmpty();
    }

    @Test
    void legacyEntriesAreListedOldestFirstReadAndDeleted() throws Exception {
        FhirDeadLetterStore store = new FhirDeadLetterStore(dir, CTX);
        legacyEntry("study_1.2.3_series_1.2.3.9-00000000000000bb", "study=1.2.3 series=1.2.3.9", 3, 60);
        legacyEntry("study_1.2.3_series_1.2.3.4-00000000000000aa", "study=1.2.3 series=1.2.3.4", 2, 0);
        String older = "study_1.2.3_series_1.2.3.4-00000000000000aa";
        String newer = "study_1.2.3_series_1.2.3.9-00000000000000bb";
        DeadLetter expected = new DeadLetter(older, "study=1.2.3 series=1.2.3.4", T0, T0.plusSeconds(2), 2, 503, ERROR);

        assertThat(store.directory()).isEqualTo(dir);
        assertThat(store.list()).extracting(DeadLetter::id).containsExactly(older, newer);
        assertThat(store.list().get(0)).isEqualTo(expected);
        assertThat(store.read(older)).contains(expected);
        assertThat(store.read("absent")).isEmpty();
        assertThat(Fixtures.json(store.bundle(older))).isEqualTo(Fixtures.json(Fixtures.bundle()));

        assertThat(store.delete(older)).isTrue();
        assertThat(store.delete(older)).isFalse();
        assertThat(dir.resolve(older + ".json")).doesNotExist();
        assertThat(store.list()).extracting(DeadLetter::id).containsExactly(newer);
    }

    @Test
    void idsThatAreNotOursAreRefusedBeforeTheDiskIsTouched() {
        FhirDeadLetterStore store = new FhirDeadLetterStore(dir, CTX);
        for (String bad : new String[] {"../etc/passwd", "/tmp/x", ".hidden", "", "a/b"}) {
            assertThatThrownBy(() -> store.delete(bad)).isInstanceOfSatisfying(TriageException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.FHIR_DEAD_LETTER_IO));
            assertThatThrownBy(() -> store.bundle(bad)).isInstanceOf(TriageException.class);
        }
    }

    @Test
    void partFilesAndDamagedEntriesAreLeftOutOfTheListTheRestStillListed() throws Exception {
        FhirDeadLetterStore store = new FhirDeadLetterStore(dir, CTX);
        legacyEntry("study_1-0000000000000001", "study=1", 1, 0);
        legacyEntry("study_2-0000000000000002", "study=2", 1, 5);
        Files.writeString(dir.resolve("crashed.json.1234.part"), "{\"half\":");
        Files.writeString(dir.resolve("damaged.json"), "not json");
        Files.writeString(dir.resolve("other.json"), "{\"format\":\"something-else/1\"}");
        Files.writeString(dir.resolve("badtime.json"), "{\"format\":\"" + FhirDeadLetterStore.FORMAT
                + "\",\"firstAttempt\":\"yesterday\"}");

        assertThat(store.list()).extracting(DeadLetter::id)
                .containsExactly("study_1-0000000000000001", "study_2-0000000000000002");
        assertThatThrownBy(() -> store.bundle("damaged")).hasMessageStartingWith("TRIAGE-0507");
        assertThatThrownBy(() -> store.read("other")).hasMessageStartingWith("TRIAGE-0507")
                .hasMessageContaining("not in format " + FhirDeadLetterStore.FORMAT);
        assertThatThrownBy(() -> store.bundle("badtime")).hasMessageStartingWith("TRIAGE-0507")
                .hasMessageContaining("has no bundle");
        assertThatThrownBy(() -> store.bundle("absent")).hasMessageStartingWith("TRIAGE-0507 no dead letter absent");
    }
}
