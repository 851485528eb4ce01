package org.cttriage.core.inference;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * How a model wants its input (a model package's {@code preprocessing}): an axis-aligned
 * grid in patient LPS coordinates of {@code gridSize} voxels (x, y, z) at {@code spacingMm},
 * centred on the centre of the volume's bounding box, filled by trilinear interpolation of
 * HU (outside the volume: {@code outsideHu}); then one channel per HU window, each clipped
 * to its window and mapped linearly to [-1, 1]. Array layout [channel, z, y, x].
 *
 * @param gridSize   voxels along x (+L), y (+P), z (+S)
 * @param spacingMm  grid spacing along x, y, z
 * @param outsideHu  HU assumed outside the acquired volume
 * @param channels   HU windows, one output channel each
 */
public record PreprocessingSpec(int[] gridSize, double[] spacingMm, double outsideHu, List<Window> channels) {

    /** One HU window → one channel. */
    public record Window(String name, double lowerHu, double upperHu) {
        public Window {
            if (!(upperHu > lowerHu)) {
                throw new IllegalArgumentException("window " + name + ": upperHu must exceed lowerHu");
            }
        }
    }

    public PreprocessingSpec {
        if (gridSize.length != 3 || spacingMm.length != 3) {
            throw new IllegalArgumentException("gridSize and spacingMm need 3 values (x, y, z)");
        }
        for (int a = 0; a < 3; a++) {
            if (gridSize[a] < 1 || gridSize[a] > 1024 || !(spacingMm[a] > 0)) {
                throw new IllegalArgumentException("gridSize must be 1..1024 and spacingMm > 0 on every axis");
            }
        }
        if (channels.isEmpty()) {
            throw new IllegalArgumentException("at least one channel is needed");
        }
        gridSize = gridSize.clone();
        spacingMm = spacingMm.clone();
        channels = List.copyOf(channels);
    }

    /** Voxels per channel. */
    public int voxels() {
        return gridSize[0] * gridSize[1] * gridSize[2];
    }

    /** Parses the JSON form (see models/ctglip-ref/preprocessing.json); rejects what we do not implement. */
    public static PreprocessingSpec fromJson(JsonNode n) {
        require(n, "orientation", "LPS");
        require(n, "centre", "volume");
        require(n, "interpolation", "trilinear");
        int[] size = new int[3];
        double[] spacing = new double[3];
        for (int a = 0; a < 3; a++) {
            size[a] = n.path("gridSize").path(a).asInt(-1);
            spacing[a] = n.path("spacingMm").path(a).asDouble(-1);
        }
        List<Window> windows = new ArrayList<>();
        for (JsonNode c : n.path("channels")) {
            windows.add(new Window(c.path("name").asText(), c.path("lowerHu").asDouble(), c.path("upperHu").asDouble()));
        }
        return new PreprocessingSpec(size, spacing, n.path("outsideHu").asDouble(-1024), windows);
    }

    private static void require(JsonNode n, String key, String value) {
        if (!value.equals(n.path(key).asText())) {
            throw new IllegalArgumentException("preprocessing." + key + " must be \"" + value + "\", was "
                    + n.path(key));
        }
    }
}
