package org.cttriage.plugin.cli;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The FHIR delivery options of {@code fhir-dead-letters retry}: the same settings as the node's {@code fhir.*}
 * keys, parsed and checked by {@link FhirDeliveryOptions#fromConfig}, so a value the node refuses is refused here.
 */
final class FhirDeadLettersOptions {
    @Option(names = "--fhir-url", required = true, paramLabel = "URL",
            description = "Base URL of the FHIR R4 server (http:// or https://), e.g. https://fhir.example.org/fhir.")
    String url;

    @Option(names = "--fhir-auth", defaultValue = "none", paramLabel = "none|bearer|oauth2",
            description = "Authentication: none, bearer (static token) or oauth2 (client credentials grant)"
                    + " (default: ${DEFAULT-VALUE}).")
    String auth;

    @Option(names = "--fhir-token", defaultValue = "${env:CT_TRIAGE_FHIR_TOKEN}", paramLabel = "TOKEN",
            description = "Static bearer token for --fhir-auth bearer (default: the environment variable"
                    + " CT_TRIAGE_FHIR_TOKEN, which, unlike an argument, other users cannot read from the process list).")
    String token;

    @Option(names = "--fhir-token-url", paramLabel = "URL", description = "OAuth2 token endpoint for --fhir-auth oauth2.")
    String tokenUrl;

    @Option(names = "--fhir-client-id", paramLabel = "ID", description = "OAuth2 client id for --fhir-auth oauth2.")
    String clientId;

    @Option(names = "--fhir-client-secret", defaultValue = "${env:CT_TRIAGE_FHIR_CLIENT_SECRET}", paramLabel = "SECRET",
            description = "OAuth2 client secret for --fhir-auth oauth2 (default: the environment variable"
                    + " CT_TRIAGE_FHIR_CLIENT_SECRET; prefer it to an argument).")
    String clientSecret;

    @Option(names = "--fhir-scope", paramLabel = "SCOPE",
            description = "OAuth2 scope to request (default: none, the client's default scope).")
    String scope;

    @Option(names = "--fhir-connect-timeout", defaultValue = "10s", paramLabel = "DURATION",
            description = "TCP connect timeout: 500ms, 10s, 1m or ISO-8601 PT10S (default: ${DEFAULT-VALUE}).")
    String connectTimeout;

    @Option(names = "--fhir-read-timeout", defaultValue = "60s", paramLabel = "DURATION",
            description = "Longest wait for the server's answer (default: ${DEFAULT-VALUE}).")
    String readTimeout;

    @Option(names = "--fhir-max-attempts", defaultValue = "1", paramLabel = "N",
            description = "Attempts per dead letter in this run, with backoff between them (1..100; default:"
                    + " ${DEFAULT-VALUE}: an operator's retry tries once and reports).")
    String maxAttempts;

    @Option(names = "--fhir-validate", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "Validate each bundle against the FHIR R4 definitions before sending it (default:"
                    + " ${DEFAULT-VALUE}; --no-fhir-validate skips it).")
    boolean validate;

    /** The delivery options these arguments give, dead letters in {@code dir}; a refused value is a usage error. */
    FhirDeliveryOptions toOptions(Path dir, CommandSpec spec) {
        Map<String, String> config = new HashMap<>();
        config.put("fhir.url", url);
        config.put("fhir.auth", auth);
        config.put("fhir.token", token);
        config.put("fhir.token-url", tokenUrl);
        config.put("fhir.client-id", clientId);
        config.put("fhir.client-secret", clientSecret);
        config.put("fhir.scope", scope);
        config.put("fhir.connect-timeout", connectTimeout);
        config.put("fhir.read-timeout", readTimeout);
        config.put("fhir.max-attempts", maxAttempts);
        config.put("fhir.validate", String.valueOf(validate));
        config.put("fhir.dead-letter-dir", dir.toString());
        if (!"bearer".equalsIgnoreCase(auth)) {
            // The environment variable may be set for another use; it only matters with its method.
            config.remove("fhir.token");
        }
        if (!auth.toLowerCase(java.util.Locale.ROOT).startsWith("oauth2")) {
            config.remove("fhir.client-secret");
        }
        try {
            return FhirDeliveryOptions.fromConfig(config::get);
        } catch (IllegalArgumentException e) {
            // The messages name the configuration keys; here the user typed options.
            String message = e.getMessage().replace("fhir.dead-letter-dir", "--dir")
                    .replaceAll("\\bfhir\\.([a-z-]+)", "--fhir-$1");
            throw new ParameterException(spec.commandLine(), message, e);
        }
    }
}
