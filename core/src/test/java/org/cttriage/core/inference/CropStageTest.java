package org.cttriage.core.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * The lesion-contrast channel as train_crops.py --contrast-channel computes it (numpy median, torch max_pool3d),
 * and the finding head's peak of a crop.
 */
class CropStageTest {

    @Test
    void peakIsTheLargestLogitOfTheChannelsOwnMap() {
        int[] head = {2, 2, 1};
        // two channels of four voxels; channel 1's largest logit is negative, channel 0's is not its finding_max
        float[] logits = {-3f, 2.5f, 0f, 1f, -7f, -2f, -4f, -9f};
        CropStage.OrganCrop c = new CropStage.OrganCrop("liver", OrganSegmentation.Side.WHOLE, null, new float[64],
                logits, head, new float[] {1f, -4f}, null, java.util.Map.of());
        assertThat(c.peak(0)).isEqualTo(2.5);
        assertThat(c.peak(1)).isEqualTo(-2.0);
    }

    @Test
    void aCalcifiedLesionIsTheDensestStructureTheOrganEncloses() {
        int[] size = {6, 6, 5};
        OrganCrops.CropGrid grid = new OrganCrops.CropGrid(new OrganCropSpec.OrganGrid("kidney", 4, true, size,
                new double[] {1.5, 1.5, 2.0}, 10), new double[] {-100, 20, -150}, true);
        float[] maxHu = soft(size);
        float[] mask = box(size, new int[] {1, 1, 1}, new int[] {4, 4, 3}); // the kidney
        maxHu[index(size, 4, 4, 3)] = 210f; // enhancing cortex
        assertThat(CropStage.densest(maxHu, mask, size, grid)).as("no dense structure: the densest voxel in the mask")
                .containsExactly(-100 + 4 * 1.5, 20 + 4 * 1.5, -150 + 3 * 2.0);
        // a stone the segmentation left as a hole in the kidney
        mask[index(size, 2, 2, 2)] = 0f;
        maxHu[index(size, 2, 2, 2)] = 650f;
        // a rib along the kidney's edge, denser than the stone, leaving the crop
        for (int i = 0; i < 6; i++) {
            maxHu[index(size, i, 0, 2)] = 900f;
        }
        assertThat(CropStage.densest(maxHu, mask, size, grid)).as("the stone, not the rib")
                .containsExactly(-100 + 2 * 1.5, 20 + 2 * 1.5, -150 + 2 * 2.0);
        assertThat(CropStage.densest(maxHu, new float[maxHu.length], size, grid)).as("no voxel in the mask").isNull();
    }

    @Test
    void aDenseStructureLongerThanAStoneIsNotACalcifiedLesion() {
        int[] size = {16, 4, 4};
        OrganCrops.CropGrid grid = new OrganCrops.CropGrid(new OrganCropSpec.OrganGrid("kidney", 4, true, size,
                new double[] {1.5, 1.5, 1.5}, 10), new double[] {0, 0, 0}, true);
        float[] maxHu = soft(size);
        float[] mask = box(size, new int[] {1, 1, 1}, new int[] {14, 2, 2});
        for (int i = 2; i <= 13; i++) {
            maxHu[index(size, i, 1, 1)] = 900f; // 18 mm long, inside the crop and the mask: a vessel wall, not a stone
        }
        mask[index(size, 8, 2, 2)] = 0f;
        maxHu[index(size, 8, 2, 2)] = 600f; // a stone at the mask's edge, left out of it
        assertThat(CropStage.densest(maxHu, mask, size, grid)).containsExactly(8 * 1.5, 2 * 1.5, 2 * 1.5);
    }

    @Test
    void maxFilterIsACubeOfRadiusRClippedAtTheEdges() {
        int[] size = {7, 5, 3};
        float[] a = new float[7 * 5 * 3];
        a[index(size, 3, 2, 1)] = 1f;
        a[index(size, 0, 0, 0)] = 0.5f;
        float[] d = CropStage.maxFilter(a, size, 2);
        for (int k = 0; k < 3; k++) {
            for (int j = 0; j < 5; j++) {
                for (int i = 0; i < 7; i++) {
                    float want = Math.abs(i - 3) <= 2 && Math.abs(j - 2) <= 2 && Math.abs(k - 1) <= 2 ? 1f
                            : i <= 2 && j <= 2 && k <= 2 ? 0.5f : 0f;
                    assertThat(d[index(size, i, j, k)]).as("(%d, %d, %d)", i, j, k).isEqualTo(want);
                }
            }
        }
        assertThat(CropStage.maxFilter(a, size, 0)).containsExactly(a);
    }

    @Test
    void contrastIsHuMinusTheOrganMedianInTheWindowTimesTheDilatedMask() {
        int[] size = {8, 1, 1};
        float[] hu = {0, 60, 40, 50, 20, 200, -300, 45};
        float[] mask = {0, 1, 1, 0.6f, 1, 0.5f, 0, 0};
        // organ voxels (mask > 0.5): 60, 40, 50, 20 -> median (40 + 50) / 2 = 45
        float[] c = CropStage.contrast(hu, mask, size, new CropStage.Contrast(80, 1));
        float[] dilated = {1, 1, 1, 1, 1, 1, 0.5f, 0};
        for (int v = 0; v < 8; v++) {
            double want = Math.max(-1, Math.min(1, (hu[v] - 45) / 80.0)) * dilated[v];
            assertThat((double) c[v]).as("voxel %d", v).isCloseTo(want, within(1e-6));
        }
        assertThat(c[5]).isEqualTo(1f); // 155 HU above the median: clipped
        assertThat(c[6]).isEqualTo(-0.5f); // clipped to -1, at the dilated mask's 0.5
        assertThat(c[7]).isZero(); // outside the dilated organ: "as the organ"
    }

    @Test
    void anOddCountTakesTheMiddleValueAndAnEmptyOrganTheMedianZero() {
        int[] size = {3, 1, 1};
        float[] c = CropStage.contrast(new float[] {10, 30, 20}, new float[] {1, 1, 1}, size,
                new CropStage.Contrast(10, 0));
        assertThat(c).containsExactly(-1f, 1f, 0f);
        float[] none = CropStage.contrast(new float[] {10, 5, 20}, new float[] {0.5f, 0, 0.2f}, size,
                new CropStage.Contrast(10, 0));
        assertThat(none).containsExactly(0.5f, 0f, 0.2f);
    }

    /** A crop of soft tissue (40 HU) of {@code size} voxels. */
    private static float[] soft(int[] size) {
        float[] hu = new float[size[0] * size[1] * size[2]];
        java.util.Arrays.fill(hu, 40f);
        return hu;
    }

    /** A mask of {@code size} voxels that is 1 in the box from {@code lo} to {@code hi} (inclusive), else 0. */
    private static float[] box(int[] size, int[] lo, int[] hi) {
        float[] mask = new float[size[0] * size[1] * size[2]];
        for (int k = lo[2]; k <= hi[2]; k++) {
            for (int j = lo[1]; j <= hi[1]; j++) {
                for (int i = lo[0]; i <= hi[0]; i++) {
                    mask[index(size, i, j, k)] = 1f;
                }
            }
        }
        return mask;
    }

    private static int index(int[] size, int i, int j, int k) {
        return i + size[0] * (j + size[1] * k);
    }

    @Test
    void aDotFilterSharesTheEncodersCropOnlyOnTheSameGrid() {
        OrganCropSpec.OrganGrid lung = new OrganCropSpec.OrganGrid("lung", 1, true, new int[] {56, 64, 96},
                new double[] {3, 3, 3}, 6);
        assertThat(CropStage.sameGrid(new OrganCropSpec.OrganGrid("lung", 1, true, new int[] {56, 64, 96},
                new double[] {3, 3, 3}, 6), lung)).isTrue();
        assertThat(CropStage.sameGrid(new OrganCropSpec.OrganGrid("lung", 1, true, new int[] {112, 128, 192},
                new double[] {1.5, 1.5, 1.5}, 6), lung)).isFalse();
        assertThat(CropStage.sameGrid(new OrganCropSpec.OrganGrid("lung", 1, true, new int[] {56, 64, 96},
                new double[] {3, 3, 3}, 0), lung)).as("another margin").isFalse();
    }
}
