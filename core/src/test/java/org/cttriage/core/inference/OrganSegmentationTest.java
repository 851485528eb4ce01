package org.cttriage.core.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.cttriage.core.domain.FindingLocation;
import org.cttriage.core.volume.SliceSource;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;
import org.junit.jupiter.api.Test;

class OrganSegmentationTest {
    private static final double[] X = {1, 0, 0};
    private static final double[] Y = {0, 1, 0};
    private static final double[] Z = {0, 0, 1};

    /** A 10x10x10 grid of 2 mm at (-10, -10, 100) with a box of label 3 at i 6..8, j 2..3, k 4..5. */
    private static OrganSegmentation grid() {
        byte[] labels = new byte[1000];
        for (int k = 4; k <= 5; k++) {
            for (int j = 2; j <= 3; j++) {
                for (int i = 6; i <= 8; i++) {
                    labels[(k * 10 + j) * 10 + i] = 3;
                }
            }
        }
        labels[0] = 3; // a stray voxel, a part of its own
        return new OrganSegmentation(labels, new int[] {10, 10, 10}, new double[] {-10, -10, 100}, new double[] {2, 2, 2});
    }

    @Test
    void theCentreIsTheCentroidOfTheLargestPartInPatientCoordinates() {
        double[] c = grid().organCentre(3).orElseThrow();
        assertThat(c).containsExactly(-10 + 7 * 2, -10 + 2.5 * 2, 100 + 4.5 * 2);
        assertThat(grid().organCentre(5)).isEmpty();
    }

    @Test
    void aPairedOrgansCentreLiesInOneOfItsParts() {
        byte[] labels = new byte[1000];
        for (int k = 3; k <= 6; k++) {
            for (int j = 3; j <= 6; j++) {
                labels[(k * 10 + j) * 10 + 1] = 1; // left part, 16 voxels
                labels[(k * 10 + j) * 10 + 8] = 1;
                labels[(k * 10 + j) * 10 + 9] = 1; // right part, 32 voxels
            }
        }
        OrganSegmentation s = new OrganSegmentation(labels, new int[] {10, 10, 10}, new double[] {0, 0, 0},
                new double[] {1, 1, 1});
        double[] c = s.organCentre(1).orElseThrow();
        assertThat(s.labelAt(c)).isEqualTo(1);
        assertThat(c[0]).isEqualTo(8.5);
    }

    @Test
    void aBoxCoversItsVoxelsInPatientCoordinates() {
        OrganSegmentation.Box b = grid().box(3, OrganSegmentation.Side.WHOLE, Double.NaN).orElseThrow();
        // the stray voxel (0, 0, 0) counts: a box is of every voxel of the organ
        assertThat(b.minLps()).containsExactly(-10 - 1, -10 - 1, 100 - 1);
        assertThat(b.maxLps()).containsExactly(-10 + 8 * 2 + 1, -10 + 3 * 2 + 1, 100 + 5 * 2 + 1);
        assertThat(grid().box(5, OrganSegmentation.Side.WHOLE, 0)).isEmpty();
    }

    @Test
    void aPairedOrganIsPartedInTheGapBetweenItsSides() {
        byte[] labels = new byte[1000];
        for (int k = 3; k <= 6; k++) {
            for (int j = 3; j <= 6; j++) {
                labels[(k * 10 + j) * 10 + 1] = 4; // the patient's right (smaller x)
                labels[(k * 10 + j) * 10 + 2] = 4;
                labels[(k * 10 + j) * 10 + 7] = 4; // the patient's left
            }
        }
        labels[(5 * 10 + 5) * 10 + 3] = 4; // the gap is columns 4..6, not 3..6
        OrganSegmentation s = new OrganSegmentation(labels, new int[] {10, 10, 10}, new double[] {-5, 0, 0},
                new double[] {1, 1, 1});
        double plane = s.sidePlaneX(4).orElseThrow();
        assertThat(plane).isEqualTo(-5 + 5.0);
        OrganSegmentation.Box right = s.box(4, OrganSegmentation.Side.RIGHT, plane).orElseThrow();
        OrganSegmentation.Box left = s.box(4, OrganSegmentation.Side.LEFT, plane).orElseThrow();
        assertThat(right.minLps()[0]).isEqualTo(-5 + 1 - 0.5);
        assertThat(right.maxLps()[0]).isEqualTo(-5 + 3 + 0.5);
        assertThat(left.minLps()[0]).isEqualTo(-5 + 7 - 0.5);
        assertThat(left.maxLps()[0]).isEqualTo(-5 + 7 + 0.5);
        assertThat(s.box(4, OrganSegmentation.Side.LEFT, 100)).isEmpty();
        assertThat(s.sidePlaneX(2)).isEmpty();
    }

    @Test
    void theCropBoxesAreTheSidesOfAPairedOrganAndTheWholeOfAnUnpairedOne() {
        byte[] labels = new byte[1000];
        for (int k = 3; k <= 6; k++) {
            labels[(k * 10 + 4) * 10 + 1] = 4; // the patient's right
            labels[(k * 10 + 4) * 10 + 8] = 4; // the patient's left
        }
        OrganSegmentation s = new OrganSegmentation(labels, new int[] {10, 10, 10}, new double[] {-5, 0, 0},
                new double[] {1, 1, 1});
        double plane = s.sidePlaneX(4).orElseThrow();
        List<OrganSegmentation.SideBox> paired = s.cropBoxes(4, true);
        assertThat(paired).extracting(OrganSegmentation.SideBox::sideName).containsExactly("right", "left");
        assertThat(paired.get(0).box().minLps())
                .containsExactly(s.box(4, OrganSegmentation.Side.RIGHT, plane).orElseThrow().minLps());
        assertThat(paired.get(1).box().maxLps())
                .containsExactly(s.box(4, OrganSegmentation.Side.LEFT, plane).orElseThrow().maxLps());
        List<OrganSegmentation.SideBox> whole = s.cropBoxes(4, false);
        assertThat(whole).singleElement().satisfies(b -> {
            assertThat(b.side()).isEqualTo(OrganSegmentation.Side.WHOLE);
            assertThat(b.sideName()).isEmpty();
            assertThat(b.box().minLps()[0]).isEqualTo(-5 + 1 - 0.5);
            assertThat(b.box().maxLps()[0]).isEqualTo(-5 + 8 + 0.5);
        });
        assertThat(s.cropBoxes(2, true)).isEmpty();
        assertThat(s.cropBoxes(2, false)).isEmpty();
    }

    @Test
    void theGeometryIsTheSegmentationsLattice() {
        OrganSegmentation s = grid();
        VolumeGeometry g = s.geometry();
        assertThat(g.size()).containsExactly(10, 10, 10);
        assertThat(g.positionOf(6, 2, 4)).containsExactly(s.positionOf(6, 2, 4));
        assertThat(s.onGrid(g)).containsExactly(s.labels());
    }

    @Test
    void aCurvedOrgansCentreIsMovedIntoIt() {
        byte[] labels = new byte[1000];
        for (int i = 0; i < 10; i++) { // an L: the centroid falls in the empty corner
            labels[(5 * 10 + 0) * 10 + i] = 2;
            labels[(5 * 10 + i) * 10 + 0] = 2;
        }
        OrganSegmentation s = new OrganSegmentation(labels, new int[] {10, 10, 10}, new double[] {0, 0, 0},
                new double[] {1, 1, 1});
        assertThat(s.labelAt(s.organCentre(2).orElseThrow())).isEqualTo(2);
    }

    @Test
    void labelsGoOntoAnotherGridByNearestNeighbour() {
        // A 20x20x20 grid of 1 mm over the same box, rotated 180 degrees about z (row -x, column -y).
        VolumeGeometry target = new VolumeGeometry(new int[] {20, 20, 20}, new double[] {1, 1, 1},
                new double[] {9.4, 9.4, 99.4}, new double[] {-1, 0, 0}, new double[] {0, -1, 0}, Z, 0);
        byte[] on = grid().onGrid(target);
        int inside = 0;
        for (int k = 0; k < 20; k++) {
            for (int j = 0; j < 20; j++) {
                for (int i = 0; i < 20; i++) {
                    double[] p = target.positionOf(i, j, k);
                    assertThat(on[(k * 20 + j) * 20 + i]).as("voxel %d %d %d", i, j, k)
                            .isEqualTo((byte) grid().labelAt(p));
                    inside += on[(k * 20 + j) * 20 + i] == 3 ? 1 : 0;
                }
            }
        }
        assertThat(inside).isPositive();
    }

    @Test
    void aFindingIsPlacedOnTheReceivedSliceNearestItsOrgansCentre() {
        // 4 slices of 2 mm from z = 105: slice 2 (z = 109, the centre's) was interpolated, 1 and 3 received.
        VolumeGeometry g = new VolumeGeometry(new int[] {2, 2, 4}, new double[] {2, 2, 2}, new double[] {0, 0, 105}, X,
                Y, Z, 0);
        SliceSource s1 = new SliceSource("1.2.840.10008.5.1.4.1.1.2", "1.2.3.1", 0);
        SliceSource s3 = new SliceSource("1.2.840.10008.5.1.4.1.1.2", "1.2.3.3", 0);
        Volume v = new Volume("1.2", "1.2.3", "", g, new short[16], List.of(), List.of("1.2.3.1", "1.2.3.3"),
                java.util.Arrays.asList(s3, s1, null, s3));
        FindingLocation l = InferenceEngine.organLocation(v, grid(), 3);
        assertThat(l.pointLps()).containsExactly(4.0, -5.0, 109.0);
        assertThat(l.sopInstanceUid()).isEqualTo("1.2.3.1"); // slice 1 (z 107) wins the tie with slice 3 (z 111)
        assertThat(l.method()).isEqualTo(FindingLocation.ORGAN_CENTRE);
        assertThat(InferenceEngine.organLocation(new Volume("1.2", "1.2.3", "", g, new short[16], List.of(), List.of()),
                grid(), 3)).as("slices unknown").isNull();
    }

    /** The axial fast path gives exactly the labels of the general way, for a fine grid offset from the model's. */
    @Test
    void onAnAxialGridTheFastPathGivesTheGeneralLabelsVoxelForVoxel() {
        java.util.Random random = new java.util.Random(3);
        byte[] labels = new byte[10 * 9 * 8];
        for (int v = 0; v < labels.length; v++) {
            labels[v] = (byte) random.nextInt(8);
        }
        OrganSegmentation coarse = new OrganSegmentation(labels, new int[] {10, 9, 8}, new double[] {-31.5, 12.25, -7},
                new double[] {6.25, 6.25, 6.25});
        VolumeGeometry axial = new VolumeGeometry(new int[] {97, 83, 61}, new double[] {0.7, 0.65, 0.9},
                new double[] {-40.1, 3.3, -12.7}, new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0);
        byte[] fast = coarse.onGrid(axial);
        assertThat(fast).isEqualTo(coarse.onGridGeneral(axial));
        assertThat(new String(fast, java.nio.charset.StandardCharsets.ISO_8859_1).chars().distinct().count())
                .as("labels and background outside the model's grid").isGreaterThan(2);
        VolumeGeometry oblique = new VolumeGeometry(new int[] {20, 20, 10}, new double[] {2, 2, 3},
                new double[] {-20, 10, 0}, new double[] {0.8, 0.6, 0}, new double[] {-0.6, 0.8, 0}, new double[] {0, 0, 1}, 0);
        assertThat(coarse.onGrid(oblique)).isEqualTo(coarse.onGridGeneral(oblique));
    }
}
