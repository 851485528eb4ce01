package org.cttriage.core.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;
import org.junit.jupiter.api.Test;

class OrganCropsTest {
    private static final List<PreprocessingSpec.Window> CHANNELS = List.of(
            new PreprocessingSpec.Window("wide", -1024, 1024, PreprocessingSpec.Reduce.MEAN),
            new PreprocessingSpec.Window("dense_max", -100, 1100, PreprocessingSpec.Reduce.MAX));

    private static OrganCropSpec spec(int[] footprint, int[] grid, double[] spacing, double margin) {
        return new OrganCropSpec(footprint, -1024, CHANNELS,
                List.of(new OrganCropSpec.OrganGrid("kidney", 4, true, grid, spacing, margin)));
    }

    /** A 1 mm volume, 60³, slices stored from the head down (slice direction -Z), origin at (-30, -30, 29). */
    private static final VolumeGeometry HEAD_FIRST = new VolumeGeometry(new int[] {60, 60, 60}, new double[] {1, 1, 1},
            new double[] {-30, -30, 29}, new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, -1}, 0);

    private static final double[] CENTRE = {4, -7, 10};
    private static final double RADIUS = 5;

    /** A 500 HU sphere in 30 HU tissue; label 4 and bit 3 inside it. */
    private static short[] sphereHu(VolumeGeometry g) {
        short[] hu = new short[(int) g.voxelCount()];
        forEachVoxel(g, (v, p) -> hu[v] = (short) (inside(p) ? 500 : 30));
        return hu;
    }

    private static boolean inside(double[] p) {
        double d2 = 0;
        for (int a = 0; a < 3; a++) {
            d2 += (p[a] - CENTRE[a]) * (p[a] - CENTRE[a]);
        }
        return d2 <= RADIUS * RADIUS;
    }

    private interface VoxelVisitor {
        void at(int index, double[] lps);
    }

    private static void forEachVoxel(VolumeGeometry g, VoxelVisitor visitor) {
        int[] s = g.size();
        for (int k = 0; k < s[2]; k++) {
            for (int j = 0; j < s[1]; j++) {
                for (int i = 0; i < s[0]; i++) {
                    visitor.at((k * s[1] + j) * s[0] + i, g.positionOf(i, j, k));
                }
            }
        }
    }

    private static Volume volume(VolumeGeometry g, short[] hu) {
        return new Volume("1.2", "1.2.3", "", g, hu, List.of(), List.of());
    }

    @Test
    void gridIsCentredOnTheBoxAtTheOrgansSpacing() {
        OrganCrops crops = new OrganCrops(spec(new int[] {1, 1, 1}, new int[] {16, 16, 8}, new double[] {1.5, 1.5, 2}, 2));
        OrganCrops.CropGrid g = crops.grid(crops.spec().organ("kidney"), new double[] {10, 20, 30}, new double[] {0, 0, 0});
        // centre (5, 10, 15); 16 voxels of 1.5 mm: first centre 7.5 × 1.5 below it
        assertThat(g.originLps()).containsExactly(5 - 7.5 * 1.5, 10 - 7.5 * 1.5, 15 - 3.5 * 2);
        assertThat(g.positionOf(15, 15, 7)).containsExactly(5 + 7.5 * 1.5, 10 + 7.5 * 1.5, 15 + 3.5 * 2);
        // 24 mm grid vs a 10 + 2·2 mm box on x but 20 + 4 on y: does not cover.
        assertThat(g.coversBox()).isFalse();
        assertThat(crops.grid(crops.spec().organ("kidney"), new double[] {0, 0, 0}, new double[] {10, 10, 10}).coversBox())
                .isTrue();
    }

    @Test
    void aKnownSphereLandsWhereItIsInPatientSpace() {
        OrganCrops crops = new OrganCrops(spec(new int[] {2, 2, 2}, new int[] {20, 20, 20}, new double[] {1.5, 1.5, 1.5}, 0));
        OrganCropSpec.OrganGrid kidney = crops.spec().organ("kidney");
        // An off-centre box, so that the sphere is not at the crop centre.
        OrganCrops.CropGrid grid = crops.grid(kidney, new double[] {-5, -12, 2}, new double[] {11, 4, 20});
        Volume v = volume(HEAD_FIRST, sphereHu(HEAD_FIRST));
        float[] hu = crops.meanHu(v, grid);
        byte[] labels = new byte[(int) HEAD_FIRST.voxelCount()];
        short[] bits = new short[labels.length];
        forEachVoxel(HEAD_FIRST, (i, p) -> {
            if (inside(p)) {
                labels[i] = 4;
                bits[i] = 1 << 3;
            }
        });
        float[] fraction = crops.labelFraction(labels, HEAD_FIRST, grid, 4);
        short[] any = crops.bitsAny(bits, HEAD_FIRST, grid);
        double[] centroid = new double[3];
        double weight = 0;
        int bright = 0;
        int[] n = kidney.gridSize();
        for (int k = 0; k < n[2]; k++) {
            for (int j = 0; j < n[1]; j++) {
                for (int i = 0; i < n[0]; i++) {
                    int o = (k * n[1] + j) * n[0] + i;
                    double w = Math.max(0, hu[o] - 30);
                    double[] p = grid.positionOf(i, j, k);
                    for (int a = 0; a < 3; a++) {
                        centroid[a] += w * p[a];
                    }
                    weight += w;
                    bright += hu[o] > 265 ? 1 : 0;
                    // Labels and bits agree with the geometry: a crop voxel wholly inside the sphere is
                    // labelled in full, one wholly outside not at all.
                    double d = Math.sqrt(Math.pow(p[0] - CENTRE[0], 2) + Math.pow(p[1] - CENTRE[1], 2)
                            + Math.pow(p[2] - CENTRE[2], 2));
                    if (d < RADIUS - 2) {
                        assertThat(fraction[o]).isEqualTo(1f);
                        assertThat(any[o]).isEqualTo((short) (1 << 3));
                    } else if (d > RADIUS + 2) {
                        assertThat(fraction[o]).isEqualTo(0f);
                        assertThat(any[o]).isEqualTo((short) 0);
                    }
                }
            }
        }
        for (int a = 0; a < 3; a++) {
            assertThat(centroid[a] / weight).isCloseTo(CENTRE[a], offset(0.3));
        }
        // Sphere volume 523.6 mm³ ≈ 155 voxels of 3.375 mm³ above half contrast.
        assertThat(bright).isBetween(130, 180);
        // The voxel holding the centre is fully inside: mean and max see 500 HU.
        int c = (int) Math.round((CENTRE[2] - grid.originLps()[2]) / 1.5) * n[1] * n[0]
                + (int) Math.round((CENTRE[1] - grid.originLps()[1]) / 1.5) * n[0]
                + (int) Math.round((CENTRE[0] - grid.originLps()[0]) / 1.5);
        assertThat(hu[c]).isCloseTo(500f, offset(1f));
    }

    @Test
    void aCropIsTheSameFromAnyVolumeThatHoldsItsContent() {
        OrganCrops crops = new OrganCrops(spec(new int[] {2, 2, 1}, new int[] {12, 12, 10}, new double[] {1.5, 1.5, 2}, 0));
        OrganCrops.CropGrid grid = crops.grid(crops.spec().organ("kidney"), new double[] {-4, -16, 2}, new double[] {10, -2, 18});
        short[] hu = sphereHu(HEAD_FIRST);
        // Add texture so that interpolation weights matter everywhere.
        for (int i = 0; i < hu.length; i++) {
            hu[i] += (short) ((i * 7919) % 61 - 30);
        }
        float[] whole = crops.channels(volume(HEAD_FIRST, hu), grid);

        // The same content, slices stored feet first (+Z), as the DICOM path assembles them.
        int[] s = HEAD_FIRST.size();
        int plane = s[0] * s[1];
        short[] up = new short[hu.length];
        for (int k = 0; k < s[2]; k++) {
            System.arraycopy(hu, k * plane, up, (s[2] - 1 - k) * plane, plane);
        }
        VolumeGeometry feetFirst = new VolumeGeometry(s, new double[] {1, 1, 1}, HEAD_FIRST.positionOf(0, 0, s[2] - 1),
                new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0);
        assertThat(crops.channels(volume(feetFirst, up), grid)).containsExactly(whole);

        // A sub-volume (what the training generator renders: only the region around the crop).
        int i0 = 17, j0 = 9, k0 = 5, nx = 30, ny = 30, nz = 40;
        short[] sub = new short[nx * ny * nz];
        for (int k = 0; k < nz; k++) {
            for (int j = 0; j < ny; j++) {
                System.arraycopy(hu, ((k0 + k) * s[1] + j0 + j) * s[0] + i0, sub, (k * ny + j) * nx, nx);
            }
        }
        VolumeGeometry part = new VolumeGeometry(new int[] {nx, ny, nz}, new double[] {1, 1, 1},
                HEAD_FIRST.positionOf(i0, j0, k0), new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, -1}, 0);
        assertThat(crops.channels(volume(part, sub), grid)).containsExactly(whole);
    }

    @Test
    void anAxisAlignedVolumeGivesTheGeneralPathsFloatsFromPerAxisTables() {
        // Spacings that are no divisor of the crop's (every weight fractional), slices stored head first, and a
        // box near the volume's corner so that part of the crop lies outside it.
        VolumeGeometry g = new VolumeGeometry(new int[] {50, 46, 40}, new double[] {0.73, 0.81, 1.25},
                new double[] {-20.3, -18.1, 25.7}, new double[] {1, 0, 0}, new double[] {0, 1, 0},
                new double[] {0, 0, -1}, 0);
        java.util.Random random = new java.util.Random(7);
        short[] hu = new short[(int) g.voxelCount()];
        byte[] labels = new byte[hu.length];
        for (int v = 0; v < hu.length; v++) {
            hu[v] = (short) (random.nextInt(2400) - 1100);
            labels[v] = (byte) random.nextInt(3);
        }
        for (int[] footprint : new int[][] {{2, 2, 1}, {3, 2, 2}}) {
            OrganCrops crops = new OrganCrops(spec(footprint, new int[] {14, 12, 10}, new double[] {1.5, 1.5, 2}, 0));
            OrganCrops.CropGrid grid = crops.grid(crops.spec().organ("kidney"), new double[] {-30, -25, -2},
                    new double[] {-8, -6, 14});
            double[][] offsets = crops.footprintOffsets(g, grid.organ());
            OrganCrops.Aligned tables = OrganCrops.Aligned.of(g, grid, footprint, offsets);
            assertThat(tables).isNotNull();
            float[][] general = crops.reduceGeneral(hu, g, grid, offsets);
            float[][] aligned = crops.reduceAligned(hu, g, grid, tables, true);
            for (int r = 0; r < 3; r++) {
                assertThat(aligned[r]).containsExactly(general[r]);
            }
            assertThat(crops.reduceAligned(hu, g, grid, tables, false)[0]).containsExactly(general[0]);
            assertThat(crops.meanHu(volume(g, hu), grid)).containsExactly(general[0]);
            assertThat(general[0]).contains(-1024f); // the outside part is there
            assertThat(crops.labelFraction(labels, g, grid, 1))
                    .containsExactly(crops.labelFractionGeneral(labels, g, grid, 1, offsets));
        }
        // An oblique volume has no tables: the general path serves it.
        double c = Math.cos(0.1);
        double s = Math.sin(0.1);
        VolumeGeometry oblique = new VolumeGeometry(g.size(), g.spacing(), g.origin(), new double[] {c, s, 0},
                new double[] {-s, c, 0}, new double[] {0, 0, 1}, 0);
        OrganCrops crops = new OrganCrops(spec(new int[] {2, 2, 1}, new int[] {14, 12, 10}, new double[] {1.5, 1.5, 2}, 0));
        OrganCrops.CropGrid grid = crops.grid(crops.spec().organ("kidney"), new double[] {-30, -25, -2},
                new double[] {-8, -6, 14});
        assertThat(OrganCrops.Aligned.of(oblique, grid, new int[] {2, 2, 1}, crops.footprintOffsets(oblique,
                grid.organ()))).isNull();
    }

    @Test
    void samplesOnTheSourceLatticeTakeItsValuesExactly() {
        // Crop voxels of 2 mm with 2×2×1 footprint samples at ±0.5 mm: a 1 mm volume offset by
        // 0.5 mm puts a voxel centre under every sample, so max is the max of four voxels exactly.
        OrganCrops crops = new OrganCrops(spec(new int[] {2, 2, 1}, new int[] {4, 4, 2}, new double[] {2, 2, 2}, 0));
        OrganCrops.CropGrid grid = crops.grid(crops.spec().organ("kidney"), new double[] {-4, -4, -2}, new double[] {4, 4, 2});
        // crop voxel (0,0,0) centre = (-3, -3, -1); samples at x,y ∈ {-3.5, -2.5}
        VolumeGeometry g = new VolumeGeometry(new int[] {10, 10, 4}, new double[] {1, 1, 2}, new double[] {-4.5, -4.5, -1},
                new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0);
        short[] hu = new short[400];
        for (int i = 0; i < hu.length; i++) {
            hu[i] = (short) (i * 3 + 20);
        }
        float[] out = crops.channels(volume(g, hu), grid);
        // samples hit voxels (1..2, 1..2, 0)
        int[] hit = {11, 12, 21, 22};
        double mean = 0;
        int max = Integer.MIN_VALUE;
        for (int h : hit) {
            mean += hu[h] / 4.0;
            max = Math.max(max, hu[h]);
        }
        assertThat(out[0]).isEqualTo((float) ((mean + 1024) * (2.0 / 2048) - 1.0));
        assertThat(out[32]).isEqualTo((float) ((max + 100) * (2.0 / 1200) - 1.0));
    }

    @Test
    void parsesTheJsonFormAndRejectsWhatItDoesNotImplement() throws Exception {
        ObjectMapper json = new ObjectMapper();
        String ok = """
                {"orientation": "LPS", "interpolation": "trilinear", "footprintSamples": [2, 2, 1], "outsideHu": -1024,
                 "channels": [{"name": "wide", "lowerHu": -1024, "upperHu": 1024, "reduce": "mean"}],
                 "organs": [{"name": "kidney", "label": 4, "bySide": true, "gridSize": [48, 48, 64],
                             "spacingMm": [1.5, 1.5, 1.5], "marginMm": 10}]}""";
        OrganCropSpec s = OrganCropSpec.fromJson(json.readTree(ok));
        assertThat(s.organ("kidney").gridSize()).containsExactly(48, 48, 64);
        assertThat(s.organ("kidney").bySide()).isTrue();
        assertThat(s.footprintSamples()).containsExactly(2, 2, 1);
        assertThatThrownBy(() -> OrganCropSpec.fromJson(json.readTree(ok.replace("LPS", "RAS"))))
                .hasMessageContaining("orientation");
        assertThatThrownBy(() -> OrganCropSpec.fromJson(json.readTree(ok.replace("[48, 48, 64]", "[48, 0, 64]"))))
                .hasMessageContaining("gridSize");
        assertThatThrownBy(() -> s.organ("liver")).hasMessageContaining("liver");
    }
}
