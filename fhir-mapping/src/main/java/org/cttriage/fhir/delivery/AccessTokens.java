package org.cttriage.fhir.delivery;

import java.time.Clock;
import org.apache.http.client.HttpClient;

/** Where the bearer token of each request comes from; one per {@link FhirDelivery}, shared by its threads. */
interface AccessTokens {
    /** The token to send now, or null for no Authorization header. */
    String current() throws TokenUnavailableException;

    /** Whether a 401 may be answered by fetching a new token (false for a static token). */
    boolean refreshable();

    /** Forgets {@code token} after the server refused it, unless another thread already replaced it. */
    void invalidate(String token);

    static AccessTokens of(FhirAuthentication auth, HttpClient http, Clock clock) {
        return switch (auth.method()) {
            case NONE -> new Static(null);
            case BEARER -> new Static(auth.bearerToken());
            case OAUTH2_CLIENT_CREDENTIALS -> new ClientCredentialsTokens(auth, http, clock);
        };
    }

    /** No token, or one fixed token. */
    record Static(String token) implements AccessTokens {
        @Override
        public String current() {
            return token;
        }

        @Override
        public boolean refreshable() {
            return false;
        }

        @Override
        public void invalidate(String t) {
            // A static token cannot be replaced: the 401 stands.
        }

        @Override
        public String toString() {
            return token == null ? "no token" : "static token ***";
        }
    }
}
