package org.cttriage.core.dicom;

import java.nio.file.Path;
import org.cttriage.core.error.ErrorCode;

/**
 * A file the scanner could not use, with the reason.
 *
 * @param file   the file
 * @param code   why, as a stable code
 * @param reason the explanation an operator reads
 */
public record RejectedFile(Path file, ErrorCode code, String reason) {
    @Override
    public String toString() {
        return code.code() + " " + file + ": " + reason;
    }
}
