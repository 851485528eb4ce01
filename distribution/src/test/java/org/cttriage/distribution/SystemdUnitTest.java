package org.cttriage.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped systemd unit: {@code systemd-analyze verify} accepts it in a root laid out as the README installs it
 * (the launcher at /opt/ct-triage/bin, the system's units beside it), {@code systemd-analyze security} rates it no worse
 * than "OK", and field by field it is the hardened service the README describes and agrees with the example
 * configuration's data folder.
 */
@RequiresTools("systemd-analyze")
class SystemdUnitTest {
    private static final Path UNIT = Distribution.UNPACKED.resolve("systemd/ct-triage.service");
    private static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for ct-triage\\.service: (\\d+\\.\\d+) (\\S+)");

    @TempDir
    Path root;

    @Test
    void systemdAcceptsTheUnitAndRatesItsSandbox() throws Exception {
        Path opt = Files.createDirectories(root.resolve("opt/ct-triage/bin"));
        Files.copy(Distribution.UNPACKED.resolve("bin/ct-triage"), opt.resolve("ct-triage"));
        Files.createDirectories(root.resolve("etc/systemd/system"));
        Files.copy(UNIT, root.resolve("etc/systemd/system/ct-triage.service"));
        // The units it names (network-online.target, sysinit.target…), from this machine's systemd.
        Path systemUnits = Files.isDirectory(Path.of("/usr/lib/systemd/system")) ? Path.of("/usr/lib/systemd/system")
                : Path.of("/lib/systemd/system");
        copyTree(systemUnits, root.resolve("usr/lib/systemd/system"));

        ExternalCommand.Result verify = ExternalCommand.run(Duration.ofMinutes(1), "systemd-analyze", "verify",
                "--man=no", "--root=" + root, "/etc/systemd/system/ct-triage.service");
        assertThat(verify.exitCode()).as(verify.output()).isZero();
        assertThat(verify.output()).as("no warning").isBlank();

        ExternalCommand.Result security = ExternalCommand.run(Duration.ofMinutes(1), "systemd-analyze", "security",
                "--offline=true", "--root=" + root, "/etc/systemd/system/ct-triage.service");
        Matcher m = EXPOSURE.matcher(security.output());
        assertThat(m.find()).as(security.output()).isTrue();
        // systemd's scale: below 4 is "OK" or better (5+ MEDIUM, 7+ EXPOSED, 9+ UNSAFE).
        assertThat(Double.parseDouble(m.group(1))).as(security.output()).isLessThan(4.0);
    }

    @Test
    void hardenedServiceOfItsOwnUserWritingOnlyItsDataFolder() throws Exception {
        Map<String, List<String>> service = section(Files.readString(UNIT), "Service");
        assertThat(service.get("User")).containsExactly("ct-triage");
        assertThat(service.get("ExecStart")).singleElement().asString()
                .startsWith("/opt/ct-triage/bin/ct-triage serve --config /etc/ct-triage/ct-triage.conf");
        assertThat(service.get("Restart")).containsExactly("on-failure");
        assertThat(service.get("SuccessExitStatus")).containsExactly("143");
        assertThat(service.get("TimeoutStopSec")).hasSize(1);
        for (String yes : List.of("NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices")) {
            assertThat(service.get(yes)).as(yes).containsExactly("yes");
        }
        assertThat(service.get("ProtectSystem")).containsExactly("strict");
        assertThat(service.get("CapabilityBoundingSet")).containsExactly("");
        assertThat(service.get("AmbientCapabilities")).containsExactly("");

        String dataDir = Distribution.activeKeys(Files.readString(Distribution.UNPACKED.resolve("etc/ct-triage.conf")))
                .get("node.data-dir");
        assertThat(service.get("ReadWritePaths")).containsExactly(dataDir);
        assertThat(service.get("WorkingDirectory")).containsExactly(dataDir);
        assertThat("/var/lib/" + service.get("StateDirectory").get(0)).isEqualTo(dataDir);
    }

    /** The key=value lines of one [section] of a unit file, each key's values in order. */
    static Map<String, List<String>> section(String unit, String name) {
        Map<String, List<String>> keys = new LinkedHashMap<>();
        String current = "";
        for (String line : unit.lines().map(String::strip).toList()) {
            if (line.startsWith("[") && line.endsWith("]")) {
                current = line.substring(1, line.length() - 1);
            } else if (current.equals(name) && !line.isEmpty() && !line.startsWith("#") && line.contains("=")) {
                keys.computeIfAbsent(line.substring(0, line.indexOf('=')), k -> new ArrayList<>())
                        .add(line.substring(line.indexOf('=') + 1));
            }
        }
        return keys;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isSymbolicLink(p)) {
                    // Aliases point beside themselves; masked units (to /dev/null) are none of this unit's business.
                    Path link = Files.readSymbolicLink(p);
                    if (!link.isAbsolute()) {
                        Files.createDirectories(target.getParent());
                        Files.createSymbolicLink(target, link);
                    }
                } else if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
