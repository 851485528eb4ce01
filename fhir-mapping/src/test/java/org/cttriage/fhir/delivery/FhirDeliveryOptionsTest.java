package org.cttriage.fhir.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.cttriage.core.node.RetryPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FhirDeliveryOptionsTest {
    static final URI URL = URI.create("https://fhir.example.org/fhir");

    static Function<String, String> config(String... keyValues) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put(keyValues[i], keyValues[i + 1]);
        }
        return m::get;
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        FhirDeliveryOptions o = FhirDeliveryOptions.builder(URL).build();
        assertThat(o.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(o.readTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(o.authentication().method()).isEqualTo(FhirAuthentication.Method.NONE);
        assertThat(o.maxAttempts()).as("about an hour at the default back-off").isEqualTo(20);
        assertThat(o.initialBackoff()).isEqualTo(Duration.ofSeconds(2));
        assertThat(o.backoffMultiplier()).isEqualTo(2.0);
        assertThat(o.maxBackoff()).isEqualTo(Duration.ofMinutes(5));
        assertThat(o.validation()).isEqualTo(FhirDeliveryOptions.Validation.VALIDATE);
        assertThat(o.deadLetterDir()).isEqualTo(Path.of("var", "fhir-dead-letters"));
    }

    @Test
    void theListedKeyDefaultsGiveTheBuilderDefaults() {
        Map<String, String> defaults = new HashMap<>();
        FhirDeliveryOptions.CONFIG_KEYS.forEach(k -> defaults.put(k.key(), k.defaultValue()));
        defaults.put("fhir.url", URL.toString());
        assertThat(FhirDeliveryOptions.fromConfig(defaults::get)).isEqualTo(FhirDeliveryOptions.builder(URL).build());
    }

    @Test
    void everyKeyReadIsListedWithADescription() {
        Set<String> read = new LinkedHashSet<>();
        FhirDeliveryOptions.fromConfig(k -> {
            read.add(k);
            return k.equals("fhir.url") ? URL.toString() : null;
        });
        assertThat(FhirDeliveryOptions.CONFIG_KEYS).extracting(FhirDeliveryOptions.ConfigKey::key)
                .containsExactlyInAnyOrderElementsOf(read).doesNotHaveDuplicates();
        assertThat(FhirDeliveryOptions.CONFIG_KEYS).allSatisfy(k -> assertThat(k.description()).isNotBlank());
    }

    @Test
    void docsFhirMappingListsEveryKeyWithItsDefaultAndDescription() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "fhir-mapping.md"));
        for (FhirDeliveryOptions.ConfigKey k : FhirDeliveryOptions.CONFIG_KEYS) {
            String def = k.defaultValue().isEmpty() ? "—" : "`" + k.defaultValue() + "`";
            assertThat(doc).as("docs/fhir-mapping.md row of %s", k.key())
                    .contains("| `" + k.key() + "` | " + def + " | " + k.description() + " |");
        }
    }

    @Test
    void everyKeyIsApplied() {
        FhirDeliveryOptions o = FhirDeliveryOptions.fromConfig(config(
                "fhir.url", "http://127.0.0.1:8080/fhir",
                "fhir.auth", "oauth2",
                "fhir.token-url", "https://idp.example.org/token",
                "fhir.client-id", "ct-triage",
                "fhir.client-secret", "s3cret",
                "fhir.scope", "system/*.write",
                "fhir.connect-timeout", "500ms",
                "fhir.read-timeout", "PT2M",
                "fhir.max-attempts", "3",
                "fhir.initial-backoff", "1s",
                "fhir.backoff-multiplier", "1.5",
                "fhir.max-backoff", "1m",
                "fhir.validate", "false",
                "fhir.dead-letter-dir", "/var/lib/ct-triage/fhir-dead-letters"));
        assertThat(o.baseUrl()).isEqualTo(URI.create("http://127.0.0.1:8080/fhir"));
        assertThat(o.authentication()).isEqualTo(FhirAuthentication.clientCredentials(
                URI.create("https://idp.example.org/token"), "ct-triage", "s3cret", "system/*.write"));
        assertThat(o.connectTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(o.readTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(o.maxAttempts()).isEqualTo(3);
        assertThat(o.initialBackoff()).isEqualTo(Duration.ofSeconds(1));
        assertThat(o.backoffMultiplier()).isEqualTo(1.5);
        assertThat(o.maxBackoff()).isEqualTo(Duration.ofMinutes(1));
        assertThat(o.validation()).isEqualTo(FhirDeliveryOptions.Validation.SKIP);
        assertThat(o.deadLetterDir()).isEqualTo(Path.of("/var/lib/ct-triage/fhir-dead-letters"));
        assertThat(FhirDeliveryOptions.fromConfig(config("fhir.url", URL.toString(), "fhir.auth", "bearer",
                "fhir.token", "abc")).authentication()).isEqualTo(FhirAuthentication.bearer("abc"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "fhir.url; ftp://example.org/fhir; allowed: an absolute http:// or https:// URL",
        "fhir.auth; basic; allowed: none, bearer, oauth2",
        "fhir.connect-timeout; ten seconds; allowed: a duration such as 500ms, 30s, 5m, 1h or PT30S",
        "fhir.read-timeout; 0s; must be more than 0 to 1h",
        "fhir.max-attempts; many; allowed: a whole number within 1..100",
        "fhir.max-attempts; 0; must be within 1..100",
        "fhir.initial-backoff; -1s; allowed: a duration",
        "fhir.backoff-multiplier; 0.5; must be within 1.0..10.0",
        "fhir.max-backoff; 2h; must be 0 to 1h",
        "fhir.validate; maybe; allowed: true, false",
        "fhir.token-url; not a url; allowed: an absolute http:// or https:// URL",
    })
    void aBadValueNamesTheKeyAndWhatIsAllowed(String key, String value, String allowed) {
        Map<String, String> m = new HashMap<>();
        m.put("fhir.url", URL.toString());
        m.put(key, value);
        if (key.equals("fhir.token-url")) {
            m.put("fhir.auth", "oauth2");
        }
        assertThatThrownBy(() -> FhirDeliveryOptions.fromConfig(m::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(key).hasMessageContaining(allowed);
    }

    @Test
    void inconsistentSettingsAreRefusedNamingTheKeys() {
        assertThatThrownBy(() -> FhirDeliveryOptions.fromConfig(config()))
                .hasMessageContaining("fhir.url is required");
        assertThatThrownBy(() -> FhirDeliveryOptions.fromConfig(config("fhir.url", URL.toString(), "fhir.auth", "bearer")))
                .hasMessageContaining("fhir.auth=bearer").hasMessageContaining("fhir.token");
        assertThatThrownBy(() -> FhirDeliveryOptions.fromConfig(config("fhir.url", URL.toString(), "fhir.auth", "oauth2",
                "fhir.token-url", "https://idp.example.org/token", "fhir.client-id", "x")))
                .hasMessageContaining("fhir.client-secret");
        assertThatThrownBy(() -> FhirDeliveryOptions.fromConfig(config("fhir.url", URL.toString(), "fhir.token", "abc")))
                .hasMessageContaining("fhir.auth=none");
        assertThatThrownBy(() -> FhirDeliveryOptions.fromConfig(config("fhir.url", URL.toString(),
                "fhir.initial-backoff", "10s", "fhir.max-backoff", "5s")))
                .hasMessageContaining("fhir.max-backoff").hasMessageContaining("fhir.initial-backoff");
        assertThatThrownBy(() -> FhirDeliveryOptions.builder(URI.create("https://fhir.example.org/fhir?x=1")).build())
                .hasMessageContaining("fhir.url");
    }

    @Test
    void secretsNeverShowInToString() {
        FhirDeliveryOptions o = FhirDeliveryOptions.builder(URL).authentication(FhirAuthentication.clientCredentials(
                URI.create("https://idp.example.org/token"), "ct-triage", "s3cret-value", null)).build();
        assertThat(o.toString()).contains("clientId=ct-triage").doesNotContain("s3cret-value");
        assertThat(FhirAuthentication.bearer("token-value").toString()).doesNotContain("token-value");
    }

    @Test
    void durationsInEveryWrittenForm() {
        assertThat(FhirDeliveryOptions.duration("k", "250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(FhirDeliveryOptions.duration("k", "30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(FhirDeliveryOptions.duration("k", "5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(FhirDeliveryOptions.duration("k", "1h")).isEqualTo(Duration.ofHours(1));
        assertThat(FhirDeliveryOptions.duration("k", "PT1M30S")).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void theRetryPolicyIsTheOptionsBackoffAndCapsTheServersRetryAfter() {
        FhirDeliveryOptions o = FhirDeliveryOptions.builder(URL).maxAttempts(5).initialBackoff(Duration.ofSeconds(1))
                .backoffMultiplier(3).maxBackoff(Duration.ofSeconds(5)).build();
        RetryPolicy p;
        try (FhirDelivery d = new FhirDelivery(o.toBuilder().validation(FhirDeliveryOptions.Validation.SKIP).build(),
                Fixtures.CTX, Clock.systemUTC())) {
            p = d.retryPolicy();
        }
        assertThat(p.maxAttempts()).isEqualTo(5);
        assertThat(IntStream.rangeClosed(1, 4).mapToObj(n -> p.backoff(n, null))).containsExactly(Duration.ofSeconds(1),
                Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(5));
        assertThat(p.backoff(1, Duration.ofSeconds(2))).as("the server's Retry-After").isEqualTo(Duration.ofSeconds(2));
        assertThat(p.backoff(1, Duration.ofDays(1))).as("capped by the maximum").isEqualTo(Duration.ofSeconds(5));
    }
}
