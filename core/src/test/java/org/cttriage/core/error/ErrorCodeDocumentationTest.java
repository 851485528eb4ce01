package org.cttriage.core.error;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/error-codes.md lists every code with its name, so operators can look any log line up. */
class ErrorCodeDocumentationTest {
    @Test
    void everyCodeIsDocumented() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "error-codes.md"));
        for (ErrorCode c : ErrorCode.values()) {
            assertThat(doc).as("docs/error-codes.md row for %s", c).contains("| " + c.code() + " | `" + c.name() + "` |");
        }
    }
}
