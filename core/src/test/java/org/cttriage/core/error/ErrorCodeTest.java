package org.cttriage.core.error;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ErrorCodeTest {
    @Test
    void codesAreUniqueAndWellFormed() {
        Set<String> seen = new HashSet<>();
        for (ErrorCode c : ErrorCode.values()) {
            assertThat(c.code()).matches("TRIAGE-\\d{4}");
            assertThat(seen.add(c.code())).as("duplicate code %s", c.code()).isTrue();
            assertThat(c.summary()).isNotBlank();
        }
        assertThat(seen).hasSize(ErrorCode.values().length);
        assertThat(Arrays.stream(ErrorCode.values()).map(ErrorCode::number)).doesNotHaveDuplicates();
    }

    @Test
    void messageStartsWithCodeAndKeepsCause() {
        RuntimeException cause = new RuntimeException("root");
        TriageException e = new TriageException(ErrorCode.NOT_CT, "modality is MR", cause);
        assertThat(e.getMessage()).isEqualTo("TRIAGE-0202 modality is MR");
        assertThat(e.reason()).isEqualTo("modality is MR");
        assertThat(e.getCause()).isSameAs(cause);
        assertThat(e.errorCode()).isEqualTo(ErrorCode.NOT_CT);
    }
}
