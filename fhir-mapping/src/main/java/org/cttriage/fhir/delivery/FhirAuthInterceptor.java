package org.cttriage.fhir.delivery;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.client.api.ClientResponseContext;
import ca.uhn.fhir.rest.client.api.IHttpRequest;
import ca.uhn.fhir.rest.client.api.IHttpResponse;
import java.io.IOException;

/**
 * HAPI client interceptor for one attempt: adds {@code Authorization: Bearer <token>}; when the server answers 401
 * and the token can be refreshed (OAuth2), forgets the token, fetches a new one and re-sends the request once,
 * so that the caller sees the answer to the re-sent request. A token endpoint failure during that refresh is kept
 * ({@link #refreshFailure()}) rather than thrown, because HAPI logs exceptions from interceptors as errors with
 * their stack; the caller then sees the first 401 and the reason it stood.
 */
final class FhirAuthInterceptor {
    static final String AUTHORIZATION = "Authorization";

    private final AccessTokens tokens;
    private String token;
    private boolean refreshed;
    private TokenUnavailableException refreshFailure;

    /** {@code token} is what {@code tokens} gave for this attempt (null: no header). */
    FhirAuthInterceptor(AccessTokens tokens, String token) {
        this.tokens = tokens;
        this.token = token;
    }

    @Hook(Pointcut.CLIENT_REQUEST)
    public void request(IHttpRequest request) {
        if (token != null) {
            request.removeHeaders(AUTHORIZATION);
            request.addHeader(AUTHORIZATION, "Bearer " + token);
        }
    }

    // Runs before ResponseCapture, which must see the answer to the re-sent request.
    @Hook(value = Pointcut.CLIENT_RESPONSE, order = 0)
    public void response(IHttpRequest request, ClientResponseContext context) throws IOException {
        IHttpResponse response = context.getHttpResponse();
        if (response.getStatus() != 401 || refreshed || !tokens.refreshable()) {
            return;
        }
        refreshed = true;
        tokens.invalidate(token);
        try {
            token = tokens.current();
        } catch (TokenUnavailableException e) {
            refreshFailure = e;
            return;
        }
        response.close();
        request(request);
        context.setHttpResponse(request.execute());
    }

    /** Whether a 401 made this attempt fetch a new token and re-send. */
    boolean refreshed() {
        return refreshed;
    }

    /** Why the token could not be refreshed after a 401, or null. */
    TokenUnavailableException refreshFailure() {
        return refreshFailure;
    }
}
