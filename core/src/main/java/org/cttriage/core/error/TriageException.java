package org.cttriage.core.error;

import java.util.Objects;

/**
 * The one checked exception of ct-triage. Its message always starts with the error code
 * ({@code TRIAGE-0101 …}); the cause, when there is one, is always kept.
 */
public class TriageException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ErrorCode errorCode;
    private final String reason;

    public TriageException(ErrorCode errorCode, String reason) {
        this(errorCode, reason, null);
    }

    public TriageException(ErrorCode errorCode, String reason, Throwable cause) {
        super(errorCode.code() + " " + Objects.requireNonNull(reason, "reason"), cause);
        this.errorCode = errorCode;
        this.reason = reason;
    }

    /** The stable code of this failure. */
    public ErrorCode errorCode() {
        return errorCode;
    }

    /** The message without the code prefix. */
    public String reason() {
        return reason;
    }
}
