package org.cttriage.fhir.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import org.apache.http.HttpResponse;
import org.apache.http.NameValuePair;
import org.apache.http.client.HttpClient;
import org.apache.http.client.entity.UrlEncodedFormEntity;
import org.apache.http.client.methods.HttpPost;
import org.apache.http.message.BasicNameValuePair;
import org.apache.http.util.EntityUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OAuth2 client credentials grant (RFC 6749 §4.4): POSTs {@code grant_type=client_credentials} (and the scope)
 * to the token endpoint with the client authenticated by HTTP Basic (§2.3.1), and caches the access token until
 * shortly before {@code expires_in} — a tenth of its lifetime early, at most 30 s — so that a token does not expire
 * between being read and reaching the server. Without {@code expires_in} the token is kept until the FHIR server
 * refuses it. Thread-safe: one fetch at a time, other threads wait for its token.
 */
final class ClientCredentialsTokens implements AccessTokens {
    private static final Logger LOG = LoggerFactory.getLogger(ClientCredentialsTokens.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration MAX_EARLY = Duration.ofSeconds(30);
    /** Longest part of a refusal's body kept: error and error_description, never a token. */
    private static final int MAX_BODY = 300;

    private final FhirAuthentication auth;
    private final HttpClient http;
    private final Clock clock;
    private String token;
    private Instant refreshAt;

    ClientCredentialsTokens(FhirAuthentication auth, HttpClient http, Clock clock) {
        this.auth = auth;
        this.http = http;
        this.clock = clock;
    }

    @Override
    public synchronized String current() throws TokenUnavailableException {
        Instant now = clock.instant();
        if (token == null || (refreshAt != null && !now.isBefore(refreshAt))) {
            token = null;
            fetch(now);
        }
        return token;
    }

    @Override
    public boolean refreshable() {
        return true;
    }

    @Override
    public synchronized void invalidate(String refused) {
        if (Objects.equals(refused, token)) {
            token = null;
        }
    }

    private void fetch(Instant now) throws TokenUnavailableException {
        HttpPost post = new HttpPost(auth.tokenUrl());
        String basic = enc(auth.clientId()) + ":" + enc(auth.clientSecret());
        post.setHeader("Authorization", "Basic " + Base64.getEncoder().encodeToString(basic.getBytes(StandardCharsets.UTF_8)));
        post.setHeader("Accept", "application/json");
        List<NameValuePair> form = new ArrayList<>();
        form.add(new BasicNameValuePair("grant_type", "client_credentials"));
        if (auth.scope() != null) {
            form.add(new BasicNameValuePair("scope", auth.scope()));
        }
        post.setEntity(new UrlEncodedFormEntity(form, StandardCharsets.UTF_8));
        int status;
        String body;
        try {
            HttpResponse response = http.execute(post);
            status = response.getStatusLine().getStatusCode();
            body = response.getEntity() == null ? "" : EntityUtils.toString(response.getEntity(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TokenUnavailableException(0, true, "token endpoint " + auth.tokenUrl() + " unreachable: "
                    + FhirDelivery.describe(e), e);
        } finally {
            post.releaseConnection();
        }
        if (status == 429 || status >= 500) {
            throw new TokenUnavailableException(status, true, "token endpoint " + auth.tokenUrl() + " answered HTTP "
                    + status, null);
        }
        if (status < 200 || status > 299) {
            // RFC 6749 §5.2: error and error_description say why (invalid_client, invalid_scope, …).
            throw new TokenUnavailableException(status, false, "token endpoint " + auth.tokenUrl() + " refused client "
                    + auth.clientId() + ": HTTP " + status + " " + oauthError(body), null);
        }
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (IOException e) {
            throw new TokenUnavailableException(status, true, "token endpoint " + auth.tokenUrl()
                    + " answered with unreadable JSON", e);
        }
        JsonNode accessToken = json == null ? null : json.get("access_token");
        if (accessToken == null || !accessToken.isTextual() || accessToken.asText().isBlank()) {
            throw new TokenUnavailableException(status, true, "token endpoint " + auth.tokenUrl()
                    + " answered without an access_token", null);
        }
        JsonNode type = json.get("token_type");
        if (type != null && !"bearer".equalsIgnoreCase(type.asText())) {
            throw new TokenUnavailableException(status, false, "token endpoint " + auth.tokenUrl() + " issued a "
                    + type.asText() + " token; only Bearer tokens are supported", null);
        }
        JsonNode expiresIn = json.get("expires_in");
        token = accessToken.asText();
        refreshAt = null;
        if (expiresIn != null && expiresIn.canConvertToLong() && expiresIn.asLong() > 0) {
            Duration lifetime = Duration.ofSeconds(expiresIn.asLong());
            Duration early = lifetime.dividedBy(10);
            refreshAt = now.plus(lifetime).minus(early.compareTo(MAX_EARLY) > 0 ? MAX_EARLY : early);
        }
        LOG.info("OAuth2 token for client {} fetched from {}{}", auth.clientId(), auth.tokenUrl(),
                refreshAt == null ? ", no expiry given: kept until refused" : ", refreshed after " + refreshAt);
    }

    private static String oauthError(String body) {
        try {
            JsonNode n = JSON.readTree(body);
            if (n != null && n.has("error")) {
                String d = n.has("error_description") ? " (" + n.get("error_description").asText() + ")" : "";
                return trim("error=" + n.get("error").asText() + d);
            }
        } catch (IOException e) {
            // Not JSON: say so rather than quote an HTML page.
        }
        return "(no OAuth2 error in the answer)";
    }

    private static String trim(String s) {
        return s.length() <= MAX_BODY ? s : s.substring(0, MAX_BODY) + "…";
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
