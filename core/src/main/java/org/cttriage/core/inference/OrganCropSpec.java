package org.cttriage.core.inference;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * How a two-stage model wants its organ crops: for each organ a fixed-size grid at the organ's own
 * fine spacing, axis-aligned in patient LPS coordinates and centred on the organ's bounding box
 * (from the coarse stage at inference, from the phantom in training), and the channels every crop
 * voxel gets (footprint reductions in HU windows, as {@link PreprocessingSpec} defines them).
 * JSON form: models/ctglip-ref/experiments/organ-crops.json.
 *
 * @param footprintSamples samples per crop voxel along x, y, z (1..16 each), reduced by each channel's reduce
 * @param outsideHu        HU assumed outside the acquired volume
 * @param channels         one output channel each
 * @param organs           one crop grid per organ, in model order
 */
public record OrganCropSpec(int[] footprintSamples, double outsideHu, List<PreprocessingSpec.Window> channels,
                            List<OrganGrid> organs) {

    /**
     * One organ's crop grid.
     *
     * @param name      organ name as in the dictionary (lung, liver, ...)
     * @param label     the organ's label in the coarse segmentation (1..7)
     * @param bySide    true for paired organs (lungs, kidneys): one crop per side
     * @param gridSize  voxels along x (+L), y (+P), z (+S)
     * @param spacingMm spacing along x, y, z
     * @param marginMm  context the grid should keep around the organ's box on every side; a box plus
     *                  margin larger than the grid is still cropped (centred), and
     *                  {@link OrganCrops.CropGrid#coversBox()} says so
     */
    public record OrganGrid(String name, int label, boolean bySide, int[] gridSize, double[] spacingMm,
                            double marginMm) {
        public OrganGrid {
            if (gridSize.length != 3 || spacingMm.length != 3) {
                throw new IllegalArgumentException("organ " + name + ": gridSize and spacingMm need 3 values (x, y, z)");
            }
            for (int a = 0; a < 3; a++) {
                if (gridSize[a] < 1 || gridSize[a] > 512 || !(spacingMm[a] > 0)) {
                    throw new IllegalArgumentException("organ " + name
                            + ": gridSize must be 1..512 and spacingMm > 0 on every axis");
                }
            }
            if (!(marginMm >= 0)) {
                throw new IllegalArgumentException("organ " + name + ": marginMm must be >= 0");
            }
            gridSize = gridSize.clone();
            spacingMm = spacingMm.clone();
        }

        @Override
        public int[] gridSize() {
            return gridSize.clone();
        }

        @Override
        public double[] spacingMm() {
            return spacingMm.clone();
        }

        /** Voxels of one channel. */
        public int voxels() {
            return gridSize[0] * gridSize[1] * gridSize[2];
        }

        /** Extent of the grid along axis a, from the first voxel's outer face to the last's, mm. */
        public double extentMm(int a) {
            return gridSize[a] * spacingMm[a];
        }
    }

    public OrganCropSpec {
        if (footprintSamples.length != 3) {
            throw new IllegalArgumentException("footprintSamples needs 3 values (x, y, z)");
        }
        for (int s : footprintSamples) {
            if (s < 1 || s > 16) {
                throw new IllegalArgumentException("footprintSamples must be 1..16 on every axis");
            }
        }
        if (channels.isEmpty() || organs.isEmpty()) {
            throw new IllegalArgumentException("at least one channel and one organ are needed");
        }
        footprintSamples = footprintSamples.clone();
        channels = List.copyOf(channels);
        organs = List.copyOf(organs);
    }

    @Override
    public int[] footprintSamples() {
        return footprintSamples.clone();
    }

    /** The grid of the organ called {@code name}. */
    public OrganGrid organ(String name) {
        return organs.stream().filter(o -> o.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no crop grid for organ " + name));
    }

    /** Parses the JSON form; rejects what is not implemented (orientation other than LPS, interpolation other than trilinear). */
    public static OrganCropSpec fromJson(JsonNode n) {
        if (!"LPS".equals(n.path("orientation").asText())) {
            throw new IllegalArgumentException("organCrops.orientation must be \"LPS\", was " + n.path("orientation"));
        }
        if (!"trilinear".equals(n.path("interpolation").asText())) {
            throw new IllegalArgumentException("organCrops.interpolation must be \"trilinear\", was "
                    + n.path("interpolation"));
        }
        int[] samples = new int[3];
        for (int a = 0; a < 3; a++) {
            samples[a] = n.path("footprintSamples").path(a).asInt(-1);
        }
        List<PreprocessingSpec.Window> windows = new ArrayList<>();
        for (JsonNode c : n.path("channels")) {
            String name = c.path("name").asText();
            windows.add(new PreprocessingSpec.Window(name, c.path("lowerHu").asDouble(), c.path("upperHu").asDouble(),
                    PreprocessingSpec.Reduce.parse(c.path("reduce").asText("mean"), name)));
        }
        List<OrganGrid> organs = new ArrayList<>();
        for (JsonNode o : n.path("organs")) {
            int[] size = new int[3];
            double[] spacing = new double[3];
            for (int a = 0; a < 3; a++) {
                size[a] = o.path("gridSize").path(a).asInt(-1);
                spacing[a] = o.path("spacingMm").path(a).asDouble(-1);
            }
            organs.add(new OrganGrid(o.path("name").asText(), o.path("label").asInt(-1), o.path("bySide").asBoolean(false),
                    size, spacing, o.path("marginMm").asDouble(0)));
        }
        return new OrganCropSpec(samples, n.path("outsideHu").asDouble(-1024), windows, organs);
    }
}
