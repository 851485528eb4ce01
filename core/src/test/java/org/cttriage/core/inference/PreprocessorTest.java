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
}
