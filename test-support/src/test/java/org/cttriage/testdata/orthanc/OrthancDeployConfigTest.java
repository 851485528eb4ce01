package org.cttriage.testdata.orthanc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * deploy/orthanc/ ships what the Orthanc tests run: the Lua script is the harness's resource byte
 * for byte, and the configuration fragment points at that script and at the modality it sends to.
 */
class OrthancDeployConfigTest {
    private static final Path DEPLOY = Path.of("..", "deploy", "orthanc");

    @Test
    void shippedLuaScriptIsTheOneTheTestsRun() throws Exception {
        byte[] shipped = Files.readAllBytes(DEPLOY.resolve("route-ct-to-ct-triage.lua"));
        assertThat(new String(shipped, StandardCharsets.UTF_8))
                .as("deploy/orthanc/route-ct-to-ct-triage.lua must be a copy of test-data's resource %s",
                        OrthancServer.ROUTING_SCRIPT_RESOURCE)
                .isEqualTo(OrthancServer.routingScript());
        assertThat(OrthancServer.routingScript()).contains("'" + OrthancServer.ROUTING_MODALITY + "'");
    }

    @Test
    void configurationFragmentRegistersTheNodeAndLoadsTheScript() throws Exception {
        // Orthanc's configuration files may carry // and /* */ comments.
        JsonNode c = JsonMapper.builder().enable(JsonReadFeature.ALLOW_JAVA_COMMENTS).build()
                .readTree(DEPLOY.resolve("orthanc.json").toFile());
        JsonNode node = c.path("DicomModalities").path(OrthancServer.ROUTING_MODALITY);
        assertThat(node.path("AET").asText()).isNotBlank();
        assertThat(node.path("Host").asText()).isNotBlank();
        assertThat(node.path("Port").isInt()).isTrue();
        assertThat(c.path("StableAge").asInt()).isPositive();
        assertThat(c.path("LuaScripts")).singleElement()
                .satisfies(p -> assertThat(p.asText()).endsWith("/route-ct-to-ct-triage.lua"));
    }
}
