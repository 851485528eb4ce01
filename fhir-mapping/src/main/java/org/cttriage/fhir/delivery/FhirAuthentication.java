package org.cttriage.fhir.delivery;

import java.net.URI;
import java.util.Objects;

/**
 * How ct-triage authenticates to the FHIR server. Build with {@link #none()}, {@link #bearer(String)} or
 * {@link #clientCredentials(URI, String, String, String)}; the components a method does not use are null.
 * {@link #toString()} never shows the token or the client secret.
 *
 * @param method       NONE (default), BEARER (a static token, e.g. a long-lived API key) or OAUTH2_CLIENT_CREDENTIALS
 * @param bearerToken  the static token sent as {@code Authorization: Bearer …} (BEARER only)
 * @param tokenUrl     the OAuth2 token endpoint, http or https (OAUTH2_CLIENT_CREDENTIALS only)
 * @param clientId     the OAuth2 client id (OAUTH2_CLIENT_CREDENTIALS only)
 * @param clientSecret the OAuth2 client secret, sent with HTTP Basic as RFC 6749 §2.3.1 recommends
 * @param scope        the scope to ask for, or null to ask for the client's default scope
 */
public record FhirAuthentication(Method method, String bearerToken, URI tokenUrl, String clientId, String clientSecret,
                                 String scope) {

    /** The authentication methods ct-triage supports. */
    public enum Method {
        /** No Authorization header (a server on a trusted network, or behind an authenticating proxy). */
        NONE,
        /** A static bearer token. A 401 is final: a static token cannot be refreshed. */
        BEARER,
        /**
         * OAuth2 client credentials grant: a token fetched from the token endpoint, cached until shortly before
         * it expires, fetched anew once when the FHIR server answers 401.
         */
        OAUTH2_CLIENT_CREDENTIALS
    }

    public FhirAuthentication {
        Objects.requireNonNull(method, "authentication method (fhir.auth): allowed none, bearer, oauth2");
        switch (method) {
            case NONE -> {
                if (bearerToken != null || tokenUrl != null || clientId != null || clientSecret != null || scope != null) {
                    throw new IllegalArgumentException("authentication NONE (fhir.auth=none) takes no token or client"
                            + " credentials; choose fhir.auth=bearer or fhir.auth=oauth2 to use them");
                }
            }
            case BEARER -> {
                if (blank(bearerToken)) {
                    throw new IllegalArgumentException("authentication BEARER (fhir.auth=bearer) needs the token (fhir.token)");
                }
                if (tokenUrl != null || clientId != null || clientSecret != null || scope != null) {
                    throw new IllegalArgumentException("authentication BEARER (fhir.auth=bearer) takes only a token;"
                            + " the token URL, client id, client secret and scope belong to fhir.auth=oauth2");
                }
            }
            case OAUTH2_CLIENT_CREDENTIALS -> {
                if (tokenUrl == null || !tokenUrl.isAbsolute()
                        || !("http".equalsIgnoreCase(tokenUrl.getScheme()) || "https".equalsIgnoreCase(tokenUrl.getScheme()))) {
                    throw new IllegalArgumentException("authentication OAUTH2_CLIENT_CREDENTIALS (fhir.auth=oauth2) needs"
                            + " the token endpoint (fhir.token-url) as an absolute http:// or https:// URL, got " + tokenUrl);
                }
                if (blank(clientId) || blank(clientSecret)) {
                    throw new IllegalArgumentException("authentication OAUTH2_CLIENT_CREDENTIALS (fhir.auth=oauth2) needs"
                            + " the client id (fhir.client-id) and client secret (fhir.client-secret)");
                }
                if (bearerToken != null) {
                    throw new IllegalArgumentException("authentication OAUTH2_CLIENT_CREDENTIALS (fhir.auth=oauth2) fetches"
                            + " its own tokens; a static token (fhir.token) belongs to fhir.auth=bearer");
                }
                if (scope != null && scope.isBlank()) {
                    throw new IllegalArgumentException("the OAuth2 scope (fhir.scope) must not be blank; leave it unset"
                            + " for the client's default scope");
                }
            }
            default -> throw new IllegalStateException("unreachable");
        }
    }

    /** No authentication (the default). */
    public static FhirAuthentication none() {
        return new FhirAuthentication(Method.NONE, null, null, null, null, null);
    }

    /** A static bearer token. */
    public static FhirAuthentication bearer(String token) {
        return new FhirAuthentication(Method.BEARER, token, null, null, null, null);
    }

    /** OAuth2 client credentials; {@code scope} may be null. */
    public static FhirAuthentication clientCredentials(URI tokenUrl, String clientId, String clientSecret, String scope) {
        return new FhirAuthentication(Method.OAUTH2_CLIENT_CREDENTIALS, null, tokenUrl, clientId, clientSecret, scope);
    }

    @Override
    public String toString() {
        return switch (method) {
            case NONE -> "NONE";
            case BEARER -> "BEARER(token=***)";
            case OAUTH2_CLIENT_CREDENTIALS -> "OAUTH2_CLIENT_CREDENTIALS(tokenUrl=" + tokenUrl + ", clientId=" + clientId
                    + ", clientSecret=***" + (scope == null ? "" : ", scope=" + scope) + ")";
        };
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
