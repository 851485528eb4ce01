package org.cttriage.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.node.NodeRole;
import org.cttriage.plugin.node.ClusterConfig;
import org.cttriage.plugin.node.NodeSettings;
import org.junit.jupiter.api.Test;

/**
 * deploy/cluster wired consistently, read without a container engine: every node runs the build's image with its
 * role's configuration, all on the same shared data volume, the postgres service's database and the artemis service's
 * broker with their users and passwords; the receiver is Orthanc's modality and only Orthanc calls it; the workers
 * send the SR to Orthanc. Each configuration is valid as the node reads it, in its role.
 */
class ClusterComposeFileTest {
    private static final Path CLUSTER = Distribution.PROJECT.resolve("deploy/cluster");

    @Test
    void receiverAndWorkersShareTheDatabaseTheBrokerAndTheDataFolder() throws Exception {
        JsonNode compose = new YAMLMapper().readTree(CLUSTER.resolve("compose.yaml").toFile());
        JsonNode services = compose.get("services");
        assertThat(ComposeFileTest.fieldNames(services)).containsExactlyInAnyOrder("postgres", "artemis", "orthanc",
                "receiver", "worker-1", "worker-2");
        JsonNode pg = services.get("postgres").get("environment");
        JsonNode broker = services.get("artemis").get("environment");
        assertThat(broker.get("ANONYMOUS_LOGIN").asText()).isEqualTo("false");
        Map<String, NodeRole> roles = Map.of("receiver", NodeRole.RECEIVER, "worker-1", NodeRole.WORKER,
                "worker-2", NodeRole.WORKER);
        for (Map.Entry<String, NodeRole> e : roles.entrySet()) {
            JsonNode node = services.get(e.getKey());
            assertThat(node.get("image").asText()).isEqualTo(Distribution.IMAGE_NAME);
            assertThat(node.get("depends_on").get("postgres").get("condition").asText()).isEqualTo("service_healthy");
            assertThat(ComposeFileTest.mount(node, "/var/lib/ct-triage")).as("the shared folder").isEqualTo("shared-data");
            Path configFile = CLUSTER.resolve(ComposeFileTest.mount(node, "/etc/ct-triage/ct-triage.conf"));
            Map<String, String> config = Distribution.activeKeys(Files.readString(configFile));
            assertThat(config.get("node.data-dir")).isEqualTo("/var/lib/ct-triage");
            assertThat(config.get("database.url")).isEqualTo("jdbc:postgresql://postgres:5432/" + pg.get("POSTGRES_DB").asText());
            assertThat(config.get("database.user")).isEqualTo(pg.get("POSTGRES_USER").asText());
            assertThat(config.get("database.password")).isEqualTo(pg.get("POSTGRES_PASSWORD").asText());
            assertThat(config.get("cluster.broker-url")).isEqualTo("tcp://artemis:61616");
            assertThat(config.get("cluster.broker-user")).isEqualTo(broker.get("ARTEMIS_USER").asText());
            assertThat(config.get("cluster.broker-password")).isEqualTo(broker.get("ARTEMIS_PASSWORD").asText());
            assertThat(RemoteAe.parse(config.get("delivery.dicom-destinations")))
                    .isEqualTo(new RemoteAe("ORTHANC", "orthanc", 4242));

            NodeSettings settings = NodeSettings.load(configFile, Path.of("/opt/ct-triage"));
            ClusterConfig cluster = settings.cluster(Optional.empty());
            assertThat(cluster.role()).as(e.getKey()).isEqualTo(e.getValue());
            assertThat(settings.nodeConfig(List.of()).destinations()).hasSize(1);
        }
        assertThat(ComposeFileTest.fieldNames(compose.get("volumes"))).contains("shared-data");

        // Orthanc's "cttriage" modality is the receiver, which only Orthanc may call.
        JsonNode orthancConfig = JsonMapper.builder().enable(JsonReadFeature.ALLOW_JAVA_COMMENTS).build()
                .readTree(CLUSTER.resolve(ComposeFileTest.mount(services.get("orthanc"), "/etc/orthanc/orthanc.json"))
                        .toFile());
        Map<String, String> receiver = Distribution.activeKeys(Files.readString(CLUSTER.resolve("receiver.conf")));
        JsonNode modality = orthancConfig.get("DicomModalities").get("cttriage");
        assertThat(modality.get("Host").asText()).isEqualTo("receiver");
        assertThat(modality.get("AET").asText()).isEqualTo(receiver.get("dicom.ae-title"));
        assertThat(modality.get("Port").asInt()).isEqualTo(Integer.parseInt(receiver.get("dicom.port")));
        assertThat(receiver.get("dicom.allowed-calling-aets")).isEqualTo(orthancConfig.get("DicomAet").asText());
        assertThat(orthancConfig.get("DicomPort").asInt()).isEqualTo(4242);
        services.get("receiver").get("ports").forEach(p -> assertThat(p.asText()).startsWith("127.0.0.1:"));
    }
}
