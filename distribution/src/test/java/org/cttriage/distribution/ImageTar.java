package org.cttriage.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A container image as Jib's buildTar writes it (docker save format: manifest.json, the config JSON, one gzipped tar
 * per layer), read without a container runtime: the config, and every layer's entries with their modes, owners and
 * (for small text files) contents.
 */
final class ImageTar {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SMALL = 64 * 1024;

    /** One file system entry of a layer. */
    record Entry(String path, int mode, long uid, long gid, boolean directory, long size, String text) {
    }

    final List<String> repoTags = new ArrayList<>();
    final JsonNode config;
    /** Entries by layer, in layer order; a path is named without a leading slash or trailing one. */
    final List<Map<String, Entry>> layers = new ArrayList<>();

    private ImageTar(JsonNode config) {
        this.config = config;
    }

    static ImageTar read(Path tar) throws IOException {
        Map<String, byte[]> files = new HashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(tar)))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (e.isFile()) {
                    files.put(e.getName(), in.readAllBytes());
                }
            }
        }
        JsonNode manifest = JSON.readTree(files.get("manifest.json")).get(0);
        ImageTar image = new ImageTar(JSON.readTree(files.get(manifest.get("Config").asText())));
        manifest.get("RepoTags").forEach(t -> image.repoTags.add(t.asText()));
        for (JsonNode layer : manifest.get("Layers")) {
            image.layers.add(entries(new java.io.ByteArrayInputStream(files.get(layer.asText()))));
        }
        return image;
    }

    private static Map<String, Entry> entries(InputStream gzipped) throws IOException {
        Map<String, Entry> entries = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new GZIPInputStream(gzipped))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                String path = e.getName().replaceAll("^/+|/+$", "");
                String text = e.isFile() && e.getSize() <= SMALL ? new String(in.readAllBytes(), StandardCharsets.UTF_8) : null;
                entries.put(path, new Entry(path, e.getMode() & 07777, e.getLongUserId(), e.getLongGroupId(),
                        e.isDirectory(), e.getSize(), text));
            }
        }
        return entries;
    }

    /** The entry of {@code path} in the image (the last layer that has it wins, as in a container's file system). */
    Entry file(String path) {
        Entry found = null;
        for (Map<String, Entry> layer : layers) {
            if (layer.containsKey(path)) {
                found = layer.get(path);
            }
        }
        return found;
    }

    /** Every path in the image. */
    List<String> paths() {
        List<String> all = new ArrayList<>();
        layers.forEach(l -> all.addAll(l.keySet()));
        return all;
    }
}
