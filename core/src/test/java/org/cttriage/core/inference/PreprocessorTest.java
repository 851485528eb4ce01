package org.cttriage.core.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.Arrays;
import java.util.List;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;
import org.junit.jupiter.api.Test;

class PreprocessorTest {
    private static final PreprocessingSpec SPEC = new PreprocessingSpec(new int[] {4, 4, 4}, new double[] {2, 2, 2},
            -1024, List.of(new PreprocessingSpec.Window("wide", -1000, 1000), new PreprocessingSpec.Window("soft", -100, 100)));

    private static Volume constant(short hu, int n, double spacing, double[] sliceDirection) {
        short[] v = new short[n * n * n];
        Arrays.fill(v, hu);
        VolumeGeometry g = new VolumeGeometry(new int[] {n, n, n}, new double[] {spacing, spacing, spacing},
                new double[] {0, 0, 0}, new double[] {1, 0, 0}, new double[] {0, 1, 0}, sliceDirection, 0);
        return new Volume("1.2", "1.2.3", "", g, v, List.of(), List.of());
    }

    @Test
    void windowsClipAndScaleToMinusOneOne() {
        float[] out = new Preprocessor(SPEC).preprocess(constant((short) 50, 8, 1, new double[] {0, 0, 1}));
        assertThat(out).hasSize(2 * 64);
        assertThat(out[0]).isCloseTo(0.05f, offset(1e-6f));
        assertThat(out[64]).isCloseTo(0.5f, offset(1e-6f));
        float[] bright = new Preprocessor(SPEC).preprocess(constant((short) 3000, 8, 1, new double[] {0, 0, 1}));
        assertThat(bright[0]).isEqualTo(1.0f);
        assertThat(bright[64]).isEqualTo(1.0f);
    }

    @Test
    void gridOutsideTheVolumeIsOutsideHu() {
        // A 2 mm volume of 2×2×2 voxels is far smaller than the 8 mm grid: the grid corners are outside.
        float[] hu = new Preprocessor(SPEC).resampleHu(new short[8], constant((short) 0, 2, 1, new double[] {0, 0, 1}).geometry());
        assertThat(hu[0]).isEqualTo(-1024f);
    }

    @Test
    void slicesOrderedEitherWayGiveTheSameGrid() {
        int n = 6;
        short[] up = new short[n * n * n];
        short[] down = new short[n * n * n];
        for (int k = 0; k < n; k++) {
            for (int v = 0; v < n * n; v++) {
                up[k * n * n + v] = (short) (k * 100);
                down[(n - 1 - k) * n * n + v] = (short) (k * 100);
            }
        }
        VolumeGeometry gu = new VolumeGeometry(new int[] {n, n, n}, new double[] {1.5, 1.5, 1.5}, new double[] {0, 0, 0},
                new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0);
        VolumeGeometry gd = new VolumeGeometry(new int[] {n, n, n}, new double[] {1.5, 1.5, 1.5}, new double[] {0, 0, 7.5},
                new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, -1}, 0);
        Preprocessor p = new Preprocessor(SPEC);
        float[] a = p.resampleHu(up, gu);
        float[] b = p.resampleHu(down, gd);
        for (int i = 0; i < a.length; i++) {
            assertThat(a[i]).isCloseTo(b[i], offset(1e-3f));
        }
        // z increases toward +S: higher grid slices see higher HU here.
        assertThat(a[3 * 16 + 5]).isGreaterThan(a[5]);
    }

    private static Volume oneBrightVoxel(int x, int y, int z, short hu) {
        int n = 16;
        short[] v = new short[n * n * n];
        v[(z * n + y) * n + x] = hu;
        VolumeGeometry g = new VolumeGeometry(new int[] {n, n, n}, new double[] {1, 1, 1}, new double[] {0, 0, 0},
                new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0);
        return new Volume("1.2", "1.2.3", "", g, v, List.of(), List.of());
    }

    private static PreprocessingSpec footprintSpec(int samples) {
        // 4 mm voxels over a 16 mm volume; with 4 samples per axis every source voxel centre is sampled once.
        return new PreprocessingSpec(new int[] {4, 4, 4}, new double[] {4, 4, 4}, new int[] {samples, samples, samples},
                -1024, List.of(new PreprocessingSpec.Window("mean", -1000, 1000, PreprocessingSpec.Reduce.MEAN),
                new PreprocessingSpec.Window("max", -1000, 1000, PreprocessingSpec.Reduce.MAX),
                new PreprocessingSpec.Window("min", -1000, 1000, PreprocessingSpec.Reduce.MIN)));
    }

    @Test
    void aPointSampleMissesASmallLesionThatTheFootprintKeeps() {
        Volume v = oneBrightVoxel(4, 4, 4, (short) 1000);
        int voxel = (1 * 4 + 1) * 4 + 1;   // grid voxel (1, 1, 1) covers source voxels 4..7 on each axis
        float[] point = new Preprocessor(footprintSpec(1)).preprocess(v);
        assertThat(point[64 + voxel]).as("point sample at (5.5, 5.5, 5.5) sees none of voxel 4").isEqualTo(0f);

        float[] footprint = new Preprocessor(footprintSpec(4)).preprocess(v);
        assertThat(footprint[voxel]).as("mean").isCloseTo(1000f / 64 / 1000, offset(1e-6f));
        assertThat(footprint[64 + voxel]).as("max").isEqualTo(1.0f);
        assertThat(footprint[128 + voxel]).as("min").isEqualTo(0f);
        for (int o = 0; o < 64; o++) {
            if (o != voxel) {
                assertThat(footprint[64 + o]).as("max of voxel %d", o).isEqualTo(0f);
            }
        }
        float[] dark = new Preprocessor(footprintSpec(4)).preprocess(oneBrightVoxel(4, 4, 4, (short) -800));
        assertThat(dark[128 + voxel]).as("min keeps a dark voxel").isCloseTo(-0.8f, offset(1e-6f));
    }

    @Test
    void anAxisAlignedVolumeGivesTheGeneralPathsFloatsFromPerAxisTables() {
        // Spacings that are no divisor of the grid's, slices head first, a grid wider than the volume on x.
        VolumeGeometry g = new VolumeGeometry(new int[] {23, 19, 17}, new double[] {0.73, 0.81, 1.25},
                new double[] {-8.3, -6.1, 9.7}, new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, -1}, 0);
        java.util.Random random = new java.util.Random(11);
        short[] hu = new short[(int) g.voxelCount()];
        for (int v = 0; v < hu.length; v++) {
            hu[v] = (short) (random.nextInt(2400) - 1100);
        }
        PreprocessingSpec spec = new PreprocessingSpec(new int[] {9, 6, 5}, new double[] {2.5, 2.5, 3},
                new int[] {3, 2, 2}, -1024, List.of(new PreprocessingSpec.Window("mean", -1000, 1000, PreprocessingSpec.Reduce.MEAN),
                new PreprocessingSpec.Window("max", -1000, 1000, PreprocessingSpec.Reduce.MAX),
                new PreprocessingSpec.Window("min", -1000, 1000, PreprocessingSpec.Reduce.MIN)));
        Preprocessor p = new Preprocessor(spec);
        var all = java.util.EnumSet.allOf(PreprocessingSpec.Reduce.class);
        var tables = p.reduce(hu, g, all, true);
        var general = p.reduce(hu, g, all, false);
        for (PreprocessingSpec.Reduce r : all) {
            assertThat(tables.get(r)).as(r.name()).containsExactly(general.get(r));
        }
        assertThat(general.get(PreprocessingSpec.Reduce.MIN)).contains(-1024f); // part of the grid is outside
        var mean = java.util.EnumSet.of(PreprocessingSpec.Reduce.MEAN);
        assertThat(p.reduce(hu, g, mean, true).get(PreprocessingSpec.Reduce.MEAN))
                .containsExactly(general.get(PreprocessingSpec.Reduce.MEAN));
    }

    @Test
    void theFootprintMeanOfALinearRampIsTheRampAtTheCentre() {
        int n = 16;
        short[] v = new short[n * n * n];
        for (int z = 0; z < n; z++) {
            for (int y = 0; y < n; y++) {
                for (int x = 0; x < n; x++) {
                    v[(z * n + y) * n + x] = (short) (10 * x);
                }
            }
        }
        VolumeGeometry g = new VolumeGeometry(new int[] {n, n, n}, new double[] {1, 1, 1}, new double[] {0, 0, 0},
                new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0);
        float[] mean = new Preprocessor(footprintSpec(4)).resampleHu(v, g);
        float[] point = new Preprocessor(footprintSpec(1)).resampleHu(v, g);
        for (int o = 0; o < 64; o++) {
            assertThat(mean[o]).isCloseTo(point[o], offset(1e-3f));
        }
        assertThat(point[1]).isCloseTo(55f, offset(1e-3f));   // centre x = 5.5 mm
    }

    @Test
    void parsesFootprintSamplesAndReductions() throws Exception {
        com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree("""
                {"orientation": "LPS", "centre": "volume", "interpolation": "trilinear", "gridSize": [8, 8, 4],
                 "spacingMm": [6, 6, 7], "footprintSamples": [3, 3, 2], "outsideHu": -1024,
                 "channels": [{"name": "wide", "lowerHu": -1024, "upperHu": 1024},
                              {"name": "dense", "lowerHu": -200, "upperHu": 1000, "reduce": "max"}]}""");
        PreprocessingSpec spec = PreprocessingSpec.fromJson(json);
        assertThat(spec.footprintSamples()).containsExactly(3, 3, 2);
        assertThat(spec.samplesPerVoxel()).isEqualTo(18);
        assertThat(spec.channels()).extracting(PreprocessingSpec.Window::reduce)
                .containsExactly(PreprocessingSpec.Reduce.MEAN, PreprocessingSpec.Reduce.MAX);

        ((com.fasterxml.jackson.databind.node.ObjectNode) json.path("channels").get(1)).put("reduce", "median");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PreprocessingSpec.fromJson(json))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("channel dense: reduce must be mean, min or max, was \"median\"");
    }
}
