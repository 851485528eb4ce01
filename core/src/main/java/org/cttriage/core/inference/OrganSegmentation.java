package org.cttriage.core.inference;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import org.cttriage.core.volume.VolumeGeometry;

/**
 * The model's organ label map on its grid, with where that grid lies in the patient. The grid
 * is axis-aligned in patient coordinates (LPS): voxel (i, j, k) is at
 * {@code originLps + (i, j, k) · spacingMm}; labels are stored x fastest, then y, then z, as the
 * model's input is (label 0 is background, 1.. the dictionary's organ labels).
 *
 * @param labels    one label per grid voxel
 * @param gridSize  voxels along x, y, z
 * @param originLps patient position of voxel (0, 0, 0), mm
 * @param spacingMm voxel size along x, y, z, mm
 */
public record OrganSegmentation(byte[] labels, int[] gridSize, double[] originLps, double[] spacingMm) {
    public OrganSegmentation {
        gridSize = gridSize.clone();
        originLps = originLps.clone();
        spacingMm = spacingMm.clone();
        if (labels.length != gridSize[0] * gridSize[1] * gridSize[2]) {
            throw new IllegalArgumentException(labels.length + " labels for a grid of " + gridSize[0] + "x"
                    + gridSize[1] + "x" + gridSize[2]);
        }
    }

    /** Patient position of the centre of grid voxel (i, j, k). */
    public double[] positionOf(double i, double j, double k) {
        return new double[] {originLps[0] + i * spacingMm[0], originLps[1] + j * spacingMm[1],
            originLps[2] + k * spacingMm[2]};
    }

    /** Label of the grid voxel nearest to a patient position; 0 outside the grid. */
    public int labelAt(double[] lps) {
        long i = Math.round((lps[0] - originLps[0]) / spacingMm[0]);
        long j = Math.round((lps[1] - originLps[1]) / spacingMm[1]);
        long k = Math.round((lps[2] - originLps[2]) / spacingMm[2]);
        if (i < 0 || j < 0 || k < 0 || i >= gridSize[0] || j >= gridSize[1] || k >= gridSize[2]) {
            return 0;
        }
        return labels[(int) ((k * gridSize[1] + j) * gridSize[0] + i)];
    }

    /**
     * The labels on another voxel grid (a source series' full-resolution grid), nearest
     * neighbour: voxel (i, j, k) of {@code target} takes the label at its centre. Stored as that
     * grid's voxels are (x fastest).
     */
    public byte[] onGrid(VolumeGeometry target) {
        double[][] steps = steps(target);
        double[] o0 = steps[0];
        double[] di = steps[1];
        double[] dj = steps[2];
        double[] dk = steps[3];
        if (di[1] == 0 && di[2] == 0 && dj[0] == 0 && dk[0] == 0) {
            return onAxialGrid(target, o0, di, dj, dk);
        }
        return onGridGeneral(target, o0, di, dj, dk);
    }

    /**
     * {@link #onGrid} for a target whose rows run along x and whose columns and slices do not move in x (an axial
     * series, by far the usual case): the same positions and roundings, but the x index of each column is worked out
     * once, and the y and z indices once per row, instead of three roundings per voxel (a 512² × 300 series took
     * 1.5 s the general way). Exactly the labels the general way gives: the terms left out are exact zeros.
     */
    private byte[] onAxialGrid(VolumeGeometry target, double[] o0, double[] di, double[] dj, double[] dk) {
        int[] s = target.size();
        byte[] out = new byte[Math.toIntExact(target.voxelCount())];
        int[] gx = new int[s[0]];
        for (int i = 0; i < s[0]; i++) {
            long x = Math.round((o0[0] + i * di[0] - originLps[0]) / spacingMm[0]);
            gx[i] = x < 0 || x >= gridSize[0] ? -1 : (int) x;
        }
        int o = 0;
        for (int k = 0; k < s[2]; k++) {
            for (int j = 0; j < s[1]; j++, o += s[0]) {
                long y = Math.round((o0[1] + j * dj[1] + k * dk[1] - originLps[1]) / spacingMm[1]);
                long z = Math.round((o0[2] + j * dj[2] + k * dk[2] - originLps[2]) / spacingMm[2]);
                if (y < 0 || z < 0 || y >= gridSize[1] || z >= gridSize[2]) {
                    continue;
                }
                int row = (int) ((z * gridSize[1] + y) * gridSize[0]);
                for (int i = 0; i < s[0]; i++) {
                    if (gx[i] >= 0) {
                        out[o + i] = labels[row + gx[i]];
                    }
                }
            }
        }
        return out;
    }

    /** {@link #onGrid} for any target orientation: the label at each voxel's centre. */
    byte[] onGridGeneral(VolumeGeometry target) {
        double[][] steps = steps(target);
        return onGridGeneral(target, steps[0], steps[1], steps[2], steps[3]);
    }

    /** Voxel (0, 0, 0)'s position and the patient-space step of one voxel along i, j and k. */
    private static double[][] steps(VolumeGeometry target) {
        double[] o0 = target.positionOf(0, 0, 0);
        double[] di = target.positionOf(1, 0, 0);
        double[] dj = target.positionOf(0, 1, 0);
        double[] dk = target.positionOf(0, 0, 1);
        for (int a = 0; a < 3; a++) {
            di[a] -= o0[a];
            dj[a] -= o0[a];
            dk[a] -= o0[a];
        }
        return new double[][] {o0, di, dj, dk};
    }

    private byte[] onGridGeneral(VolumeGeometry target, double[] o0, double[] di, double[] dj, double[] dk) {
        int[] s = target.size();
        byte[] out = new byte[Math.toIntExact(target.voxelCount())];
        double[] p = new double[3];
        int o = 0;
        for (int k = 0; k < s[2]; k++) {
            for (int j = 0; j < s[1]; j++) {
                for (int i = 0; i < s[0]; i++, o++) {
                    for (int a = 0; a < 3; a++) {
                        p[a] = o0[a] + i * di[a] + j * dj[a] + k * dk[a];
                    }
                    out[o] = (byte) labelAt(p);
                }
            }
        }
        return out;
    }

    /**
     * A point that represents the organ: the centroid of its largest 6-connected part (so that the
     * point of a paired organ lies in one lung or one kidney, not between them), moved to the
     * nearest voxel of that part when the centroid falls outside it (a curved organ). Empty when the
     * segmentation has no voxel of the organ.
     */
    public Optional<double[]> organCentre(int label) {
        int[] component = largestComponent(label);
        if (component.length == 0) {
            return Optional.empty();
        }
        double si = 0;
        double sj = 0;
        double sk = 0;
        for (int v : component) {
            si += v % gridSize[0];
            sj += (v / gridSize[0]) % gridSize[1];
            sk += v / (gridSize[0] * gridSize[1]);
        }
        double ci = si / component.length;
        double cj = sj / component.length;
        double ck = sk / component.length;
        double[] centre = positionOf(ci, cj, ck);
        if (labelAt(centre) == label) {
            return Optional.of(centre);
        }
        int best = component[0];
        double bestD = Double.MAX_VALUE;
        for (int v : component) {
            double di = (v % gridSize[0] - ci) * spacingMm[0];
            double dj = ((v / gridSize[0]) % gridSize[1] - cj) * spacingMm[1];
            double dk = (v / (gridSize[0] * gridSize[1]) - ck) * spacingMm[2];
            double d = di * di + dj * dj + dk * dk;
            if (d < bestD) {
                bestD = d;
                best = v;
            }
        }
        return Optional.of(positionOf(best % gridSize[0], (best / gridSize[0]) % gridSize[1],
                best / (gridSize[0] * gridSize[1])));
    }

    /** Voxel indices of the largest 6-connected part with {@code label}; empty when there is none. */
    int[] largestComponent(int label) {
        int nx = gridSize[0];
        int ny = gridSize[1];
        int nz = gridSize[2];
        int[] component = new int[labels.length]; // 0 = not visited, else component number
        int[] best = new int[0];
        int number = 0;
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        int[] members = new int[labels.length];
        for (int start = 0; start < labels.length; start++) {
            if (labels[start] != label || component[start] != 0) {
                continue;
            }
            number++;
            int count = 0;
            component[start] = number;
            queue.add(start);
            while (!queue.isEmpty()) {
                int v = queue.poll();
                members[count++] = v;
                int i = v % nx;
                int j = (v / nx) % ny;
                int k = v / (nx * ny);
                visit(queue, component, number, label, i > 0 ? v - 1 : -1);
                visit(queue, component, number, label, i < nx - 1 ? v + 1 : -1);
                visit(queue, component, number, label, j > 0 ? v - nx : -1);
                visit(queue, component, number, label, j < ny - 1 ? v + nx : -1);
                visit(queue, component, number, label, k > 0 ? v - nx * ny : -1);
                visit(queue, component, number, label, k < nz - 1 ? v + nx * ny : -1);
            }
            if (count > best.length) {
                best = Arrays.copyOf(members, count);
            }
        }
        return best;
    }

    private void visit(ArrayDeque<Integer> queue, int[] component, int number, int label, int v) {
        if (v >= 0 && labels[v] == label && component[v] == 0) {
            component[v] = number;
            queue.add(v);
        }
    }

    /** Which part of an organ a box covers: all of it, or the part on the patient's right or left of a sagittal plane. */
    public enum Side {
        /** Every voxel of the organ (unpaired organs). */
        WHOLE,
        /** Voxels whose centre lies at LPS x below the plane (the patient's right). */
        RIGHT,
        /** Voxels whose centre lies at LPS x at or above the plane (the patient's left). */
        LEFT
    }

    /**
     * An axis-aligned box in patient coordinates (LPS mm): the voxels' centres' extremes plus half a
     * voxel on every face, so that a box covers the voxels it was made of.
     */
    public record Box(double[] minLps, double[] maxLps) {
        public Box {
            minLps = minLps.clone();
            maxLps = maxLps.clone();
        }

        @Override
        public double[] minLps() {
            return minLps.clone();
        }

        @Override
        public double[] maxLps() {
            return maxLps.clone();
        }

        @Override
        public String toString() {
            return "Box[" + Arrays.toString(minLps) + " .. " + Arrays.toString(maxLps) + "]";
        }
    }

    /**
     * The box of the organ's voxels on one side of the sagittal plane at LPS x = {@code planeXLps}
     * (ignored for {@link Side#WHOLE}); empty when that side has no voxel of the organ. This is how
     * the second stage finds each organ crop's box, in training (from the phantom's labels on a
     * coarse lattice) and at inference (from the coarse stage's segmentation), so that the two agree.
     */
    public Optional<Box> box(int label, Side side, double planeXLps) {
        int nx = gridSize[0];
        int ny = gridSize[1];
        int[] lo = {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE};
        int[] hi = {Integer.MIN_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE};
        for (int v = 0; v < labels.length; v++) {
            if (labels[v] != label) {
                continue;
            }
            int i = v % nx;
            if (side != Side.WHOLE) {
                boolean right = originLps[0] + i * spacingMm[0] < planeXLps;
                if (right != (side == Side.RIGHT)) {
                    continue;
                }
            }
            int[] ijk = {i, (v / nx) % ny, v / (nx * ny)};
            for (int a = 0; a < 3; a++) {
                lo[a] = Math.min(lo[a], ijk[a]);
                hi[a] = Math.max(hi[a], ijk[a]);
            }
        }
        if (lo[0] > hi[0]) {
            return Optional.empty();
        }
        double[] min = new double[3];
        double[] max = new double[3];
        for (int a = 0; a < 3; a++) {
            min[a] = originLps[a] + lo[a] * spacingMm[a] - spacingMm[a] / 2;
            max[a] = originLps[a] + hi[a] * spacingMm[a] + spacingMm[a] / 2;
        }
        return Optional.of(new Box(min, max));
    }

    /** An organ crop's box in the segmentation and the side it is of ({@link Side#WHOLE} for unpaired organs). */
    public record SideBox(Side side, Box box) {
        /** The side as the training files name it: "right", "left", or "" for unpaired organs. */
        public String sideName() {
            return side == Side.WHOLE ? "" : side.name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The boxes the second stage crops of an organ: for a paired organ ({@code bySide}) one per side that has a
     * voxel, parted at {@link #sidePlaneX}, right first; else the whole organ's box. Empty when the organ has no
     * voxel. The crop stage and {@code evaluate --crop-dump} both take their boxes from here.
     */
    public List<SideBox> cropBoxes(int label, boolean bySide) {
        List<SideBox> out = new ArrayList<>();
        if (!bySide) {
            box(label, Side.WHOLE, 0).ifPresent(b -> out.add(new SideBox(Side.WHOLE, b)));
            return out;
        }
        OptionalDouble plane = sidePlaneX(label);
        if (plane.isPresent()) {
            for (Side side : List.of(Side.RIGHT, Side.LEFT)) {
                box(label, side, plane.getAsDouble()).ifPresent(b -> out.add(new SideBox(side, b)));
            }
        }
        return out;
    }

    /** The segmentation's lattice as a volume geometry (axis-aligned in LPS), to sample its labels under a crop. */
    public VolumeGeometry geometry() {
        return new VolumeGeometry(gridSize, spacingMm, originLps, new double[] {1, 0, 0}, new double[] {0, 1, 0},
                new double[] {0, 0, 1}, 0);
    }

    /**
     * The sagittal plane that parts a paired organ (lungs, kidneys) into its right and left: LPS x of
     * the middle of the widest run of grid columns (x) without a voxel of the organ between its
     * rightmost and leftmost voxels, so that the plane falls in the gap between the two (spine,
     * mediastinum) whatever the patient's position in the field of view; the middle of the organ's
     * x extent when its voxels leave no gap. Empty when the segmentation has no voxel of the organ.
     */
    public OptionalDouble sidePlaneX(int label) {
        int nx = gridSize[0];
        boolean[] occupied = new boolean[nx];
        for (int v = 0; v < labels.length; v++) {
            if (labels[v] == label) {
                occupied[v % nx] = true;
            }
        }
        int first = -1;
        int last = -1;
        for (int i = 0; i < nx; i++) {
            if (occupied[i]) {
                first = first < 0 ? i : first;
                last = i;
            }
        }
        if (first < 0) {
            return OptionalDouble.empty();
        }
        int bestStart = -1;
        int bestLength = 0;
        for (int i = first; i <= last; i++) {
            if (occupied[i]) {
                continue;
            }
            int start = i;
            while (i <= last && !occupied[i]) {
                i++;
            }
            if (i - start > bestLength) {
                bestLength = i - start;
                bestStart = start;
            }
        }
        double middle = bestLength > 0 ? bestStart + (bestLength - 1) / 2.0 : (first + last) / 2.0;
        return OptionalDouble.of(originLps[0] + middle * spacingMm[0]);
    }

    /** Voxels of {@code label}. */
    public int count(int label) {
        int n = 0;
        for (byte b : labels) {
            if (b == label) {
                n++;
            }
        }
        return n;
    }
}
