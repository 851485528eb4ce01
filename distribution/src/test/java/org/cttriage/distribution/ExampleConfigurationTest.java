package org.cttriage.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.cttriage.hl7.delivery.Hl7Options;
import org.cttriage.plugin.node.NodeSettings;
import org.junit.jupiter.api.Test;

/**
 * The example configuration shipped in the archive names every key the node reads (NodeSettings and the fhir.*, hl7.*
 * and ups.* keys),
 * each commented-out line with its default, so that an operator finds every setting in the file they edit; and it is
 * valid as shipped. The installed {@code config check} of it runs in {@link InstalledNodeTest}.
 */
class ExampleConfigurationTest {
    private static final Path EXAMPLE = Distribution.UNPACKED.resolve("etc/ct-triage.conf");

    @Test
    void namesEveryKeyWithItsDefault() throws Exception {
        String text = Files.readString(EXAMPLE);
        List<String> lines = text.lines().map(String::strip).toList();
        for (NodeSettings.Key key : NodeSettings.Key.values()) {
            String commented = "#" + key.key() + "=" + key.defaultValue();
            assertThat(lines).as("%s in %s (a new key of NodeSettings goes into distribution/src/dist/etc/ct-triage.conf)",
                    key.key(), EXAMPLE).anyMatch(l -> l.equals(commented) || l.startsWith(key.key() + "="));
        }
        for (FhirDeliveryOptions.ConfigKey key : FhirDeliveryOptions.CONFIG_KEYS) {
            assertThat(lines).as(key.key()).contains("#" + key.key() + "=" + key.defaultValue());
        }
        for (Hl7Options.ConfigKey key : Hl7Options.CONFIG_KEYS) {
            assertThat(lines).as(key.key()).contains("#" + key.key() + "=" + key.defaultValue());
        }
        for (org.cttriage.ups.UpsOptions.ConfigKey key : org.cttriage.ups.UpsOptions.CONFIG_KEYS) {
            assertThat(lines).as(key.key()).contains("#" + key.key() + "=" + key.defaultValue());
        }
        // Nothing but the known keys, commented out or not.
        List<String> known = new java.util.ArrayList<>();
        for (NodeSettings.Key key : NodeSettings.Key.values()) {
            known.add(key.key());
        }
        FhirDeliveryOptions.CONFIG_KEYS.forEach(k -> known.add(k.key()));
        Hl7Options.CONFIG_KEYS.forEach(k -> known.add(k.key()));
        org.cttriage.ups.UpsOptions.CONFIG_KEYS.forEach(k -> known.add(k.key()));
        for (String line : lines) {
            if (line.matches("#?[a-z][a-z0-9-]*(\\.[a-z0-9-]+)+=.*")) {
                assertThat(known).as(line).contains(line.replaceFirst("^#", "").substring(0, line.replaceFirst("^#", "").indexOf('=')));
            }
        }
    }

    @Test
    void isValidAsShippedAndWritesOnlyWhereTheServiceMay() throws Exception {
        Map<String, String> active = Distribution.activeKeys(Files.readString(EXAMPLE));
        assertThat(active).containsEntry("node.data-dir", "/var/lib/ct-triage")
                .containsEntry("http.bind-address", "127.0.0.1");
        NodeSettings settings = NodeSettings.load(EXAMPLE, Distribution.UNPACKED);
        assertThat(settings.nodeConfig(List.of()).destinations()).hasSize(1);
        assertThat(settings.modelPath()).isEqualTo(Distribution.UNPACKED.resolve("models/ctglip-ref"));
        assertThat(settings.modelPath().resolve("manifest.json")).isRegularFile();
    }
}
