package org.cttriage.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.plugin.node.NodeSettings;
import org.junit.jupiter.api.Test;

/**
 * deploy/compose wired consistently, read without a container engine (none runs on these machines): the node runs the
 * image the build makes, with its configuration and data mounted; its database is the postgres service's, with that
 * service's user and password; its SR goes to Orthanc's AE title, service name and DICOM port, and only Orthanc may
 * call it; Orthanc's "cttriage" modality is the node's AE title, service name and port, and it loads the shipped
 * routing script. The node's configuration is valid as the node reads it.
 */
class ComposeFileTest {
    private static final Path COMPOSE = Distribution.PROJECT.resolve("deploy/compose");
    private static final ObjectMapper JSON_WITH_COMMENTS = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS).build();

    @Test
    void nodePostgresAndOrthancAreWiredToEachOther() throws Exception {
        JsonNode compose = new YAMLMapper().readTree(COMPOSE.resolve("compose.yaml").toFile());
        JsonNode services = compose.get("services");
        assertThat(fieldNames(services)).containsExactlyInAnyOrder("ct-triage", "postgres", "orthanc");

        JsonNode node = services.get("ct-triage");
        assertThat(node.get("image").asText()).isEqualTo(Distribution.IMAGE_NAME);
        assertThat(node.get("depends_on").get("postgres").get("condition").asText()).isEqualTo("service_healthy");
        assertThat(node.get("depends_on").has("orthanc")).isTrue();
        String configMount = mount(node, "/etc/ct-triage/ct-triage.conf");
        assertThat(configMount).isEqualTo("./ct-triage.conf");
        Path configFile = COMPOSE.resolve(configMount);
        Map<String, String> config = Distribution.activeKeys(Files.readString(configFile));
        // The data folder is the image's volume, kept in a named volume.
        assertThat(config.get("node.data-dir")).isEqualTo("/var/lib/ct-triage");
        assertThat(fieldNames(compose.get("volumes"))).contains(mount(node, "/var/lib/ct-triage"));
        // Every published port is on the host's loopback only.
        for (String service : List.of("ct-triage", "orthanc")) {
            services.get(service).get("ports").forEach(p -> assertThat(p.asText()).as(service).startsWith("127.0.0.1:"));
        }
        assertThat(strings(node.get("ports"))).contains("127.0.0.1:8080:" + config.get("http.port"));
        assertThat(config.get("http.bind-address")).isEqualTo("0.0.0.0");
        assertThat(config.get("dicom.bind-address")).isEqualTo("0.0.0.0");

        // PostgreSQL: the URL names the service and its database; user and password are the service's.
        JsonNode pg = services.get("postgres").get("environment");
        assertThat(config.get("database.url")).isEqualTo("jdbc:postgresql://postgres:5432/" + pg.get("POSTGRES_DB").asText());
        assertThat(config.get("database.user")).isEqualTo(pg.get("POSTGRES_USER").asText());
        assertThat(config.get("database.password")).isEqualTo(pg.get("POSTGRES_PASSWORD").asText());

        // Orthanc: the SR goes to its AE title, service name and DICOM port; only it may call the node.
        JsonNode orthanc = services.get("orthanc");
        JsonNode orthancConfig = JSON_WITH_COMMENTS.readTree(COMPOSE.resolve(mount(orthanc, "/etc/orthanc/orthanc.json"))
                .toFile());
        String orthancAet = orthancConfig.get("DicomAet").asText();
        RemoteAe destination = RemoteAe.parse(config.get("delivery.dicom-destinations"));
        assertThat(destination).isEqualTo(new RemoteAe(orthancAet, "orthanc", orthancConfig.get("DicomPort").asInt()));
        assertThat(config.get("dicom.allowed-calling-aets")).isEqualTo(orthancAet);
        // …and Orthanc's "cttriage" modality, to which the routing script sends, is the node.
        JsonNode modality = orthancConfig.get("DicomModalities").get("cttriage");
        assertThat(modality.get("AET").asText()).isEqualTo(config.get("dicom.ae-title"));
        assertThat(modality.get("Host").asText()).isEqualTo("ct-triage");
        assertThat(modality.get("Port").asInt()).isEqualTo(Integer.parseInt(config.get("dicom.port")));
        String script = orthancConfig.get("LuaScripts").get(0).asText();
        Path scriptSource = COMPOSE.resolve(mount(orthanc, script)).normalize();
        assertThat(scriptSource).isEqualTo(Distribution.PROJECT.resolve("deploy/orthanc/route-ct-to-ct-triage.lua"));
        assertThat(Files.readString(scriptSource)).contains("'" + "cttriage" + "'");
        assertThat(orthancConfig.get("StorageDirectory").asText()).isEqualTo(mountedAt(orthanc, "orthanc-data"));

        // The node reads its configuration as valid (config check's key and value checks; nothing connected to).
        NodeSettings settings = NodeSettings.load(configFile, Path.of("/opt/ct-triage"));
        assertThat(settings.nodeConfig(List.of()).destinations()).hasSize(1);
        assertThat(settings.database().url()).isEqualTo(config.get("database.url"));
    }

    /** The host side of the service's volume mounted at {@code target}. */
    static String mount(JsonNode service, String target) {
        for (JsonNode v : service.get("volumes")) {
            String[] parts = v.asText().split(":");
            if (parts[1].equals(target)) {
                return parts[0];
            }
        }
        throw new AssertionError("no volume mounted at " + target + " in " + service);
    }

    /** The container side of the service's volume whose host side is {@code source}. */
    static String mountedAt(JsonNode service, String source) {
        for (JsonNode v : service.get("volumes")) {
            String[] parts = v.asText().split(":");
            if (parts[0].equals(source)) {
                return parts[1];
            }
        }
        throw new AssertionError("no volume " + source + " in " + service);
    }

    static List<String> fieldNames(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
