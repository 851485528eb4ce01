package org.cttriage.testdata.orthanc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OrthancOptionsTest {
    @Test
    void defaultsAreTheDocumentedOnes() {
        OrthancOptions d = OrthancOptions.defaults();
        assertThat(d.aet()).isEqualTo("ORTHANC");
        assertThat(d.stableAge()).isEqualTo(Duration.ofSeconds(2));
        assertThat(d.routing()).isEqualTo(OrthancOptions.Routing.ROUTE_CT_TO_CT_TRIAGE);
        assertThat(d.routingPeer()).isNull();
        assertThat(d.callingAets()).containsExactlyInAnyOrder("ECHOSCU", "STORESCU");
    }

    @Test
    void rejectsWhatOrthancCannotExpressWithTheFieldsName() {
        OrthancOptions d = OrthancOptions.defaults();
        assertThatThrownBy(() -> d.withStableAge(Duration.ofMillis(1500))).hasMessageStartingWith("stableAge");
        assertThatThrownBy(() -> d.withStableAge(Duration.ZERO)).hasMessageStartingWith("stableAge");
        assertThatThrownBy(() -> d.withAet("SEVENTEEN_CHARS_X")).hasMessageStartingWith("aet");
        assertThatThrownBy(() -> d.withCallingAets(Set.of("A\\B"))).hasMessageStartingWith("callingAets");
        assertThatThrownBy(() -> new DicomPeer("   ", 104)).hasMessageStartingWith("aet");
        assertThatThrownBy(() -> new DicomPeer("CTTRIAGE", 0)).hasMessageStartingWith("port");
    }

    @Test
    void generatedConfigurationListsThePeerAndTheCallersAtLoopbackOnly() {
        OrthancOptions o = OrthancOptions.defaults().withRoutingPeer(new DicomPeer("CTTRIAGE", 11112));
        var c = OrthancServer.configuration(o, 4243, 8043, java.nio.file.Path.of("/s"), java.nio.file.Path.of("/i"),
                null);
        assertThat(c.path("DicomModalities").path(OrthancServer.ROUTING_MODALITY).path("AET").asText())
                .isEqualTo("CTTRIAGE");
        assertThat(c.path("DicomModalities")).hasSize(3)
                .allSatisfy(m -> assertThat(m.path("Host").asText()).isEqualTo("127.0.0.1"));
        assertThat(c.path("RemoteAccessAllowed").asBoolean(true)).isFalse();
        assertThat(c.path("DicomAlwaysAllowStore").asBoolean(true)).isFalse();
        assertThat(c.path("LuaScripts")).isEmpty();
    }
}
