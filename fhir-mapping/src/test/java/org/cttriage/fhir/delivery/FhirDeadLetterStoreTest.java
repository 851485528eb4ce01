package org.cttriage.fhir.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.cttriage.fhir.delivery.Fixtures.CTX;
import static org.cttriage.fhir.delivery.Fixtures.T0;

import java.nio.file.Files;
import java.nio.file.Path;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FhirDeadLetterStoreTest {
    @TempDir
    Path dir;

    FhirDelivery.Outcome failed(int attempts) {
        return new FhirDelivery.Outcome(FhirDelivery.Outcome.Kind.GAVE_UP, null, attempts, T0, T0.plusSeconds(attempts),
                503, "TRIAGE-0501 HTTP 503 from http://127.0.0.1/fhir", null, "TRIAGE-0501 HTTP 503");
    }

    @Test
    void aMissingDirectoryHoldsNothing() throws Exception {
        assertThat(new FhirDeadLetterStore(dir.resolve("absent"), CTX).list()).isEmpty();
        assertThat(new FhirDeadLetterStore(dir.resolve("absent"), CTX).read("x")).isEmpty();
    }

    @Test
    void putReadListAndDelete() throws Exception {
        FhirDeadLetterStore store = new FhirDeadLetterStore(dir, CTX);
        String id = store.put("study=1.2.3 series=1.2.3.4", Fixtures.bundle(), failed(2));

        assertThat(id).matches("study_1\\.2\\.3_series_1\\.2\\.3\\.4-[0-9a-f]{16}");
        assertThat(store.list()).containsExactly(new DeadLetter(id, "study=1.2.3 series=1.2.3.4", T0, T0.plusSeconds(2),
                2, 503, "TRIAGE-0501 HTTP 503 from http://127.0.0.1/fhir"));
        assertThat(Fixtures.json(store.bundle(id))).isEqualTo(Fixtures.json(Fixtures.bundle()));
        assertThat(store.delete(id)).isTrue();
        assertThat(store.delete(id)).isFalse();
        assertThat(store.list()).isEmpty();
    }

    @Test
    void idsThatAreNotOursAreRefusedBeforeTheDiskIsTouched() {
        FhirDeadLetterStore store = new FhirDeadLetterStore(dir, CTX);
        for (String bad : new String[] {"../etc/passwd", "/tmp/x", ".hidden", "", "a/b"}) {
            assertThatThrownBy(() -> store.delete(bad)).isInstanceOfSatisfying(TriageException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.FHIR_DEAD_LETTER_IO));
        }
    }

    @Test
    void partFilesAndDamagedEntriesAreLeftOutOfTheList() throws Exception {
        FhirDeadLetterStore store = new FhirDeadLetterStore(dir, CTX);
        String id = store.put("study=1", Fixtures.bundle(), failed(1));
        Files.writeString(dir.resolve("crashed.json.1234.part"), "{\"half\":");
        Files.writeString(dir.resolve("damaged.json"), "not json");
        assertThat(store.list()).extracting(DeadLetter::id).containsExactly(id);
        assertThatThrownBy(() -> store.bundle("damaged")).hasMessageStartingWith("TRIAGE-0507");
        assertThatThrownBy(() -> store.retry("absent", null)).hasMessageStartingWith("TRIAGE-0507 no dead letter absent");
    }

    @Test
    void aLongCorrelationIdKeepsItsDistinctEnd() {
        String id = FhirDeadLetterStore.idFor("study=" + "1.2.840.10008.".repeat(10) + "99 series=1.2.3.77", "{}");
        assertThat(id).hasSizeLessThanOrEqualTo(120 + 17).endsWith(id.substring(id.length() - 17))
                .contains("series_1.2.3.77-").matches("[A-Za-z0-9][A-Za-z0-9._-]*");
    }
}
