package org.cttriage.core.inference;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * How a model wants its input (a model package's {@code preprocessing}): an axis-aligned
 * grid in patient LPS coordinates of {@code gridSize} voxels (x, y, z) at {@code spacingMm},
 * centred on the centre of the volume's bounding box. Each grid voxel looks at its whole
 * footprint, not only its centre: HU is sampled by trilinear interpolation (outside the
 * volume: {@code outsideHu}) on a lattice of {@code footprintSamples} points evenly spread
 * over the voxel, and reduced to their mean, minimum or maximum. One channel per window:
 * a reduction clipped to an HU window and mapped linearly to [-1, 1]. Array layout
 * [channel, z, y, x].
 *
 * <p>The mean is the anti-aliased value (a point sample at 6 mm would miss a 4 mm stone
 * depending on where the grid falls); the minimum and maximum keep a small lesion that the
 * mean dilutes (a calcification, a cyst, emphysema) visible at the grid's resolution.
 * {@code footprintSamples} of 1 × 1 × 1 is plain point sampling at the voxel centre.
 *
 * @param gridSize          voxels along x (+L), y (+P), z (+S)
 * @param spacingMm         grid spacing along x, y, z
 * @param footprintSamples  samples per grid voxel along x, y, z (1..16 each)
 * @param outsideHu         HU assumed outside the acquired volume
 * @param channels          one output channel each
 */
public record PreprocessingSpec(int[] gridSize, double[] spacingMm, int[] footprintSamples, double outsideHu,
                                List<Window> channels) {

    /** How a channel reduces the HU samples of a voxel's footprint. */
    public enum Reduce {
        MEAN, MIN, MAX;

        static Reduce parse(String name, String channel) {
            for (Reduce r : values()) {
                if (r.name().equalsIgnoreCase(name)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("channel " + channel + ": reduce must be mean, min or max, was \""
                    + name + "\"");
        }
    }

    /** One channel: a footprint reduction in one HU window. */
    public record Window(String name, double lowerHu, double upperHu, Reduce reduce) {
        public Window {
            if (!(upperHu > lowerHu)) {
                throw new IllegalArgumentException("window " + name + ": upperHu must exceed lowerHu");
            }
            if (reduce == null) {
                throw new IllegalArgumentException("window " + name + ": reduce is required");
            }
        }

        /** A window over the footprint mean. */
        public Window(String name, double lowerHu, double upperHu) {
            this(name, lowerHu, upperHu, Reduce.MEAN);
        }
    }

    /** Point sampling at voxel centres (one footprint sample). */
    public PreprocessingSpec(int[] gridSize, double[] spacingMm, double outsideHu, List<Window> channels) {
        this(gridSize, spacingMm, new int[] {1, 1, 1}, outsideHu, channels);
    }

    public PreprocessingSpec {
        if (gridSize.length != 3 || spacingMm.length != 3 || footprintSamples.length != 3) {
            throw new IllegalArgumentException("gridSize, spacingMm and footprintSamples need 3 values (x, y, z)");
        }
        for (int a = 0; a < 3; a++) {
            if (gridSize[a] < 1 || gridSize[a] > 1024 || !(spacingMm[a] > 0)) {
                throw new IllegalArgumentException("gridSize must be 1..1024 and spacingMm > 0 on every axis");
            }
            if (footprintSamples[a] < 1 || footprintSamples[a] > 16) {
                throw new IllegalArgumentException("footprintSamples must be 1..16 on every axis");
            }
        }
        if (channels.isEmpty()) {
            throw new IllegalArgumentException("at least one channel is needed");
        }
        gridSize = gridSize.clone();
        spacingMm = spacingMm.clone();
        footprintSamples = footprintSamples.clone();
        channels = List.copyOf(channels);
    }

    /** Voxels per channel. */
    public int voxels() {
        return gridSize[0] * gridSize[1] * gridSize[2];
    }

    /** Footprint samples per grid voxel. */
    public int samplesPerVoxel() {
        return footprintSamples[0] * footprintSamples[1] * footprintSamples[2];
    }

    /**
     * Parses the JSON form (see models/ctglip-ref/preprocessing.json); rejects what we do not
     * implement. Without {@code footprintSamples} a voxel is point-sampled at its centre; a
     * channel without {@code reduce} takes the mean.
     */
    public static PreprocessingSpec fromJson(JsonNode n) {
        require(n, "orientation", "LPS");
        require(n, "centre", "volume");
        require(n, "interpolation", "trilinear");
        int[] size = new int[3];
        double[] spacing = new double[3];
        int[] samples = {1, 1, 1};
        for (int a = 0; a < 3; a++) {
            size[a] = n.path("gridSize").path(a).asInt(-1);
            spacing[a] = n.path("spacingMm").path(a).asDouble(-1);
            if (n.has("footprintSamples")) {
                samples[a] = n.path("footprintSamples").path(a).asInt(-1);
            }
        }
        List<Window> windows = new ArrayList<>();
        for (JsonNode c : n.path("channels")) {
            String name = c.path("name").asText();
            windows.add(new Window(name, c.path("lowerHu").asDouble(), c.path("upperHu").asDouble(),
                    Reduce.parse(c.path("reduce").asText("mean"), name)));
        }
        return new PreprocessingSpec(size, spacing, samples, n.path("outsideHu").asDouble(-1024), windows);
    }

    private static void require(JsonNode n, String key, String value) {
        if (!value.equals(n.path(key).asText())) {
            throw new IllegalArgumentException("preprocessing." + key + " must be \"" + value + "\", was "
                    + n.path(key));
        }
    }
}
