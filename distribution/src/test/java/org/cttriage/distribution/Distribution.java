package org.cttriage.distribution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.cttriage.testdata.junit.ExternalCommand;

/**
 * What {@code package} built, as failsafe's system properties name it: the archive, the same files unpacked (the
 * image's source), the image tar, and the project's root (deploy/, the shipped sources of the archive).
 */
final class Distribution {
    static final String NAME = property("distribution.name");
    static final Path ARCHIVE = Path.of(property("distribution.archive"));
    static final Path IMAGE_TAR = Path.of(property("image.tar"));
    static final String IMAGE_NAME = property("image.name");
    static final Path PROJECT = Path.of(property("project.root")).toAbsolutePath().normalize();
    /** The archive's files as the assembly also wrote them unpacked (target/NAME/NAME). */
    static final Path UNPACKED = ARCHIVE.resolveSibling(NAME).resolve(NAME);

    private Distribution() {
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("system property " + name + " is not set: run these tests with failsafe"
                    + " (mvn verify -pl distribution), after package built the archive and the image");
        }
        return value;
    }

    /** Unpacks the archive with tar into {@code into} (modes kept, as an operator's tar does) and returns the prefix. */
    static Path unpack(Path into) throws IOException, InterruptedException {
        Files.createDirectories(into);
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofMinutes(2), "tar", "-xzf", ARCHIVE.toString(), "-C",
                into.toString());
        if (r.exitCode() != 0) {
            throw new IOException("tar -xzf " + ARCHIVE + " failed: " + r.output());
        }
        return into.resolve(NAME);
    }

    /** A properties file's active keys and values, in file order (comments skipped). */
    static Map<String, String> activeKeys(String text) throws IOException {
        Properties p = new Properties();
        p.load(new java.io.StringReader(text));
        Map<String, String> keys = new LinkedHashMap<>();
        for (String line : text.lines().toList()) {
            String t = line.strip();
            if (!t.isEmpty() && !t.startsWith("#") && t.contains("=")) {
                String key = t.substring(0, t.indexOf('=')).strip();
                keys.put(key, p.getProperty(key));
            }
        }
        return keys;
    }

    /**
     * {@code text} with each key of {@code values} set: its active line replaced, else its commented-out line
     * ({@code #key=}) activated, else a line appended. Every other line, comments included, is kept.
     */
    static String withValues(String text, Map<String, String> values) {
        List<String> lines = new ArrayList<>(text.lines().toList());
        Map<String, String> left = new LinkedHashMap<>(values);
        for (int i = 0; i < lines.size(); i++) {
            String t = lines.get(i).strip();
            for (Map.Entry<String, String> e : List.copyOf(left.entrySet())) {
                if (t.startsWith(e.getKey() + "=") || t.startsWith("#" + e.getKey() + "=")) {
                    lines.set(i, e.getKey() + "=" + e.getValue());
                    left.remove(e.getKey());
                }
            }
        }
        left.forEach((k, v) -> lines.add(k + "=" + v));
        return String.join("\n", lines) + "\n";
    }
}
