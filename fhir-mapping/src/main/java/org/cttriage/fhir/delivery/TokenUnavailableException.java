package org.cttriage.fhir.delivery;

import org.cttriage.core.error.ErrorCode;

/** No access token could be had: the token endpoint refused ({@code retryable} false) or failed. */
final class TokenUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final boolean retryable;

    TokenUnavailableException(int status, boolean retryable, String reason, Throwable cause) {
        super(ErrorCode.FHIR_AUTH_FAILED.code() + " " + reason, cause);
        this.status = status;
        this.retryable = retryable;
    }

    /** HTTP status of the token endpoint's answer, 0 when there was none. */
    int status() {
        return status;
    }

    /** Whether trying again later may succeed (endpoint down or overloaded) rather than needing a fix. */
    boolean retryable() {
        return retryable;
    }
}
