package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.cttriage.fhir.delivery.DeadLetter;
import org.cttriage.fhir.delivery.DeliveryResult;
import org.cttriage.fhir.delivery.FhirDeadLetterStore;
import org.cttriage.fhir.delivery.FhirDelivery;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Device;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FhirDeadLettersCommandTest {
    @TempDir
    Path dir;

    /** A loopback port nothing listens on: every send is refused at once. */
    String closedUrl;

    @BeforeEach
    void closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedUrl = "http://127.0.0.1:" + s.getLocalPort() + "/fhir";
        }
    }

    /** Dead-letters a small transaction bundle the way the node would: one refused attempt. */
    String deadLetter() throws Exception {
        Bundle b = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        b.addEntry().setFullUrl("urn:uuid:0f62f0f5-a720-3d84-8c17-2070e8a227b1").setResource(new Device())
                .getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Device");
        FhirDeliveryOptions o = FhirDeliveryOptions.builder(URI.create(closedUrl)).maxAttempts(1)
                .validation(FhirDeliveryOptions.Validation.SKIP).deadLetterDir(dir).build();
        try (FhirDelivery d = new FhirDelivery(o, FhirContext.forR4Cached(), Clock.systemUTC(), t -> { })) {
            DeliveryResult r = d.deliver(b, "study=1.2.3 series=1.2.3.4");
            return ((DeliveryResult.DeadLettered) r).deadLetterId();
        }
    }

    @Test
    void listRetryAndDelete() throws Exception {
        CommandLineTest.Run empty = CommandLineTest.run("fhir-dead-letters", "list", "--dir", dir.toString());
        assertThat(empty.exitCode()).isZero();
        assertThat(empty.out()).startsWith("0 dead letter(s) in " + dir);

        String id = deadLetter();
        CommandLineTest.Run list = CommandLineTest.run("fhir-dead-letters", "list", "--dir", dir.toString());
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out()).contains("1 dead letter(s)").contains(id).contains("attempts=1")
                .contains("study=1.2.3 series=1.2.3.4").contains("TRIAGE-0501 no answer");

        CommandLineTest.Run retry = CommandLineTest.run("fhir-dead-letters", "retry", id, "--dir", dir.toString(), "--fhir-url", closedUrl,
                "--no-fhir-validate");
        assertThat(retry.exitCode()).as(retry.err()).isEqualTo(CtTriageCommand.EXIT_TRIAGE_FAILURE);
        assertThat(retry.out()).contains(id + "  not delivered: TRIAGE-0501").contains("0 delivered, 1 still in");
        CommandLineTest.Run all = CommandLineTest.run("fhir-dead-letters", "retry", "--all", "--dir", dir.toString(), "--fhir-url", closedUrl,
                "--no-fhir-validate");
        assertThat(all.exitCode()).isEqualTo(CtTriageCommand.EXIT_TRIAGE_FAILURE);
        List<DeadLetter> left = new FhirDeadLetterStore(dir, FhirContext.forR4Cached()).list();
        assertThat(left).singleElement().satisfies(d -> {
            assertThat(d.id()).isEqualTo(id);
            assertThat(d.attempts()).as("one entry, its attempts added up").isEqualTo(3);
        });

        CommandLineTest.Run delete = CommandLineTest.run("fhir-dead-letters", "delete", id, "--dir", dir.toString());
        assertThat(delete.exitCode()).isZero();
        assertThat(delete.out()).contains(id + " deleted");
        assertThat(CommandLineTest.run("fhir-dead-letters", "delete", id, "--dir", dir.toString()).exitCode())
                .isEqualTo(CtTriageCommand.EXIT_TRIAGE_FAILURE);
        assertThat(CommandLineTest.run("fhir-dead-letters", "list", "--dir", dir.toString()).out()).startsWith("0 dead letter(s)");
    }

    @Test
    void badArgumentsAreUsageErrorsNamingTheOption() {
        CommandLineTest.Run auth = CommandLineTest.run("fhir-dead-letters", "retry", "--all", "--dir", dir.toString(), "--fhir-url", closedUrl,
                "--fhir-auth", "basic");
        assertThat(auth.exitCode()).isEqualTo(2);
        assertThat(auth.err()).contains("--fhir-auth: 'basic' is not allowed; allowed: none, bearer, oauth2");

        CommandLineTest.Run oauth = CommandLineTest.run("fhir-dead-letters", "retry", "--all", "--dir", dir.toString(), "--fhir-url", closedUrl,
                "--fhir-auth", "oauth2", "--fhir-token-url", "https://idp.example.org/token");
        assertThat(oauth.exitCode()).isEqualTo(2);
        assertThat(oauth.err()).contains("--fhir-client-id").contains("--fhir-client-secret");

        CommandLineTest.Run timeout = CommandLineTest.run("fhir-dead-letters", "retry", "--all", "--dir", dir.toString(), "--fhir-url", closedUrl,
                "--fhir-read-timeout", "soon");
        assertThat(timeout.exitCode()).isEqualTo(2);
        assertThat(timeout.err()).contains("--fhir-read-timeout: 'soon' is not allowed");

        CommandLineTest.Run neither = CommandLineTest.run("fhir-dead-letters", "retry", "--dir", dir.toString(), "--fhir-url", closedUrl);
        assertThat(neither.exitCode()).isEqualTo(2);
        assertThat(neither.err()).contains("ID").contains("--all");

        CommandLineTest.Run traversal = CommandLineTest.run("fhir-dead-letters", "delete", "../outside", "--dir", dir.toString());
        assertThat(traversal.exitCode()).isEqualTo(CtTriageCommand.EXIT_TRIAGE_FAILURE);
        assertThat(traversal.err()).contains("TRIAGE-0507");
    }
}
