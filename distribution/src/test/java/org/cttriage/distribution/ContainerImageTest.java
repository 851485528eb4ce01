package org.cttriage.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.cttriage.plugin.node.NodeSettings;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image tar read without a container runtime (ContainerRunTest runs it where podman works): the launcher as
 * entrypoint, a non-root user, the data folder as the volume and writable by that user's group, the DICOM and HTTP
 * ports exposed and bound on every interface of the container, and layers that hold the node (jar, libraries without
 * a test library, the model) and a runtime that needs nothing from the host.
 */
class ContainerImageTest {
    private static ImageTar image;

    @BeforeAll
    static void read() throws Exception {
        image = ImageTar.read(Distribution.IMAGE_TAR);
    }

    @Test
    void configRunsTheLauncherAsANonRootUserWithTheDataFolderAsAVolume() {
        assertThat(image.repoTags).containsExactly(Distribution.IMAGE_NAME);
        JsonNode c = image.config.get("config");
        assertThat(strings(c.get("Entrypoint"))).containsExactly("/opt/ct-triage/bin/ct-triage");
        assertThat(strings(c.get("Cmd"))).containsExactly("serve", "--config", "/etc/ct-triage/ct-triage.conf",
                "--demo-studies", "0");
        String user = c.get("User").asText();
        assertThat(user).isEqualTo("10001:0");
        assertThat(image.file("etc/passwd").text()).contains("ct-triage:x:10001:0:");
        assertThat(fieldNames(c.get("ExposedPorts"))).containsExactlyInAnyOrder("11112/tcp", "8080/tcp");
        assertThat(fieldNames(c.get("Volumes"))).containsExactly("/var/lib/ct-triage");
        assertThat(c.get("WorkingDir").asText()).isEqualTo("/var/lib/ct-triage");
        assertThat(strings(c.get("Env"))).contains("JAVA_HOME=/opt/java", "PATH=/opt/java/bin:/usr/bin:/bin");
        assertThat(image.config.get("os").asText()).isEqualTo("linux");
        assertThat(image.config.get("architecture").asText()).isEqualTo("amd64");
    }

    @Test
    void theNodesConfigurationListensInsideTheContainerAndWritesToTheVolume(@TempDir Path dir) throws Exception {
        String text = image.file("etc/ct-triage/ct-triage.conf").text();
        Map<String, String> active = Distribution.activeKeys(text);
        assertThat(active).containsEntry("node.data-dir", "/var/lib/ct-triage")
                .containsEntry("dicom.bind-address", "0.0.0.0").containsEntry("dicom.port", "11112")
                .containsEntry("http.bind-address", "0.0.0.0").containsEntry("http.port", "8080");
        Path file = Files.writeString(dir.resolve("ct-triage.conf"), text);
        NodeSettings settings = NodeSettings.load(file, Path.of("/opt/ct-triage"));
        assertThat(settings.nodeConfig(List.of()).port()).isEqualTo(11112);
        assertThat(settings.httpAddress().getPort()).isEqualTo(8080);
        // Jib writes every file as root: the user's group (0) may write the data folder and /tmp, nothing else.
        ImageTar.Entry data = image.file("var/lib/ct-triage");
        assertThat(data.directory()).isTrue();
        assertThat(data.gid()).isZero();
        assertThat(data.mode() & 0070).isEqualTo(0070);
        assertThat(image.file("tmp").mode() & 0777).isEqualTo(0777);
        assertThat(image.file("opt/ct-triage/lib/ct-triage.jar").mode() & 0022).isZero();
    }

    @Test
    void layersHoldTheNodeTheModelAndARuntimeOfTheirOwn() {
        for (String file : List.of("opt/ct-triage/lib/ct-triage.jar", "opt/ct-triage/models/ctglip-ref/manifest.json",
                "opt/ct-triage/models/ctglip-ref/image_encoder.onnx", "opt/ct-triage/models/ctglip-ref/text_encoder.onnx",
                "opt/ct-triage/models/ctglip-ref/dictionary.json", "opt/ct-triage/models/ctglip-ref/vocabulary.txt",
                "opt/java/lib/server/libjvm.so", "opt/java/lib/security/cacerts", "lib/x86_64-linux-gnu/libc.so.6",
                "usr/lib/x86_64-linux-gnu/libstdc++.so.6", "usr/share/doc/libc6/copyright")) {
            assertThat(image.file(file)).as(file).isNotNull();
            assertThat(image.file(file).directory()).as(file).isFalse();
        }
        for (String executable : List.of("opt/ct-triage/bin/ct-triage", "opt/java/bin/java", "bin/bash",
                "lib64/ld-linux-x86-64.so.2", "usr/bin/env")) {
            assertThat(image.file(executable)).as(executable).isNotNull();
            assertThat(image.file(executable).mode() & 0111).as(executable).isEqualTo(0111);
        }
        assertThat(image.file("opt/ct-triage/bin/ct-triage").text()).startsWith("#!/bin/bash\n");
        List<String> jars = image.paths().stream().filter(p -> p.startsWith("opt/ct-triage/lib/") && p.endsWith(".jar"))
                .map(p -> p.substring("opt/ct-triage/lib/".length())).toList();
        assertThat(jars).hasSizeGreaterThan(50).noneMatch(j -> j.startsWith("junit") || j.startsWith("assertj")
                || j.startsWith("wiremock") || j.startsWith("archunit") || j.startsWith("ct-triage-test-support"));
        assertThat(image.paths()).noneMatch(p -> p.endsWith("train.py") || p.startsWith("root/") || p.startsWith("home/"));
        // The node's jars change most often: they are the last layer, the third-party libraries one before the rest.
        assertThat(image.layers.get(image.layers.size() - 1).keySet()).contains("opt/ct-triage/lib/ct-triage.jar")
                .noneMatch(p -> p.startsWith("opt/java/"));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<String> fieldNames(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
