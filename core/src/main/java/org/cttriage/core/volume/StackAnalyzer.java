package org.cttriage.core.volume;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.cttriage.core.dicom.SliceHeader;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * Checks the geometry of one stack of slices from their headers and plans the volume:
 * one orientation, matrix and pixel spacing; slices ordered by their position along the
 * slice normal (never by Instance Number); slice steps uniform within tolerance, with
 * missing slices detected; duplicate positions and gantry tilt detected.
 */
public final class StackAnalyzer {
    private static final double ORIENTATION_EPSILON = 1e-3;
    private static final double PIXEL_SPACING_EPSILON_MM = 1e-3;
    /** Two slices closer than this along the normal are at the same position. */
    static final double SAME_POSITION_MM = 0.01;

    private final AssemblyPolicy policy;

    public StackAnalyzer(AssemblyPolicy policy) {
        this.policy = policy;
    }

    /** The unit normal of the slices' shared orientation; checks geometry presence and consistency. */
    static double[] commonNormal(List<SliceHeader> slices) throws TriageException {
        SliceHeader first = slices.get(0);
        for (SliceHeader s : slices) {
            if (s.imagePosition() == null || s.imageOrientation() == null || s.pixelSpacing() == null) {
                throw new TriageException(ErrorCode.MISSING_GEOMETRY, "slice " + s.frameId()
                        + " lacks Image Position (Patient), Image Orientation (Patient) or Pixel Spacing");
            }
        }
        for (SliceHeader s : slices) {
            for (int i = 0; i < 6; i++) {
                if (Math.abs(s.imageOrientation()[i] - first.imageOrientation()[i]) > ORIENTATION_EPSILON) {
                    throw new TriageException(ErrorCode.MIXED_ORIENTATION, "slice " + s.frameId() + " has orientation "
                            + Arrays.toString(s.imageOrientation()) + ", slice " + first.frameId() + " has "
                            + Arrays.toString(first.imageOrientation()));
                }
            }
        }
        double[] o = first.imageOrientation();
        double[] row = {o[0], o[1], o[2]};
        double[] col = {o[3], o[4], o[5]};
        double[] n = Vectors.cross(row, col);
        if (Vectors.norm(n) < 0.5) {
            throw new TriageException(ErrorCode.MISSING_GEOMETRY,
                    "Image Orientation (Patient) " + Arrays.toString(o) + " does not span a plane");
        }
        return Vectors.normalise(n);
    }

    /** Position of a slice along {@code normal}. */
    static double along(SliceHeader s, double[] normal) {
        return Vectors.dot(s.imagePosition(), normal);
    }

    /** Plans the volume for {@code slices} (one candidate series), or says why it cannot be built. */
    public StackPlan plan(List<SliceHeader> input) throws TriageException {
        if (input.isEmpty()) {
            throw new TriageException(ErrorCode.TOO_FEW_SLICES, "no slices");
        }
        double[] normal = commonNormal(input);
        SliceHeader first = input.get(0);
        for (SliceHeader s : input) {
            if (s.rows() != first.rows() || s.columns() != first.columns()) {
                throw new TriageException(ErrorCode.MIXED_MATRIX, "slice " + s.frameId() + " is " + s.columns() + "×"
                        + s.rows() + ", slice " + first.frameId() + " is " + first.columns() + "×" + first.rows());
            }
            if (Math.abs(s.pixelSpacing()[0] - first.pixelSpacing()[0]) > PIXEL_SPACING_EPSILON_MM
                    || Math.abs(s.pixelSpacing()[1] - first.pixelSpacing()[1]) > PIXEL_SPACING_EPSILON_MM) {
                throw new TriageException(ErrorCode.MIXED_PIXEL_SPACING, "slice " + s.frameId() + " has pixel spacing "
                        + Arrays.toString(s.pixelSpacing()) + ", slice " + first.frameId() + " has "
                        + Arrays.toString(first.pixelSpacing()));
            }
        }
        List<SliceHeader> sorted = new ArrayList<>(input);
        sorted.sort(Comparator.comparingDouble((SliceHeader s) -> along(s, normal))
                .thenComparing(SliceHeader::sopInstanceUid).thenComparingInt(SliceHeader::frameIndex));
        int n = sorted.size();
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = along(sorted.get(i), normal);
        }
        for (int i = 1; i < n; i++) {
            if (d[i] - d[i - 1] < SAME_POSITION_MM) {
                throw new TriageException(ErrorCode.DUPLICATE_POSITIONS, String.format(
                        "slices %s and %s are both at %.2f mm along the normal",
                        sorted.get(i - 1).frameId(), sorted.get(i).frameId(), d[i]));
            }
        }

        double[] o = first.imageOrientation();
        double[] row = {o[0], o[1], o[2]};
        double[] col = {o[3], o[4], o[5]};
        double[] sliceDirection = normal;
        double tilt = 0;
        if (n >= 2) {
            double[] stacking = Vectors.sub(sorted.get(n - 1).imagePosition(), sorted.get(0).imagePosition());
            tilt = Vectors.axisAngleDegrees(stacking, normal);
            if (tilt > policy.tiltToleranceDegrees()) {
                if (policy.gantryTilt() == AssemblyPolicy.GantryTiltPolicy.REJECT) {
                    throw new TriageException(ErrorCode.GANTRY_TILT, String.format(
                            "slices are stacked %.2f° off their normal (gantry tilt) and the policy rejects tilt", tilt));
                }
                sliceDirection = Vectors.normalise(stacking);
            } else {
                tilt = 0;
            }
        }

        int[] indices = new int[n];
        List<SliceGap> gaps = new ArrayList<>();
        double step = 1.0;
        if (n >= 2) {
            double[] steps = new double[n - 1];
            for (int i = 1; i < n; i++) {
                steps[i - 1] = d[i] - d[i - 1];
            }
            double[] sortedSteps = steps.clone();
            Arrays.sort(sortedSteps);
            double nominal = sortedSteps[(sortedSteps.length - 1) / 2];
            int index = 0;
            for (int i = 1; i < n; i++) {
                double ratio = steps[i - 1] / nominal;
                long k = Math.round(ratio);
                if (Math.abs(ratio - k) > policy.spacingTolerance() * Math.max(1, k) || k < 1) {
                    throw new TriageException(ErrorCode.NON_UNIFORM_SPACING, String.format(
                            "step %.3f mm between %s and %s is not a multiple of the usual %.3f mm (tolerance %.0f%%)",
                            steps[i - 1], sorted.get(i - 1).frameId(), sorted.get(i).frameId(), nominal,
                            policy.spacingTolerance() * 100));
                }
                if (k > 1) {
                    int missing = (int) (k - 1);
                    if (missing > policy.maxMissingSlicesPerGap()) {
                        throw new TriageException(ErrorCode.GAP_TOO_LARGE, String.format(
                                "%d slices missing between %s and %s (%.2f mm gap); at most %d may be interpolated",
                                missing, sorted.get(i - 1).frameId(), sorted.get(i).frameId(), steps[i - 1],
                                policy.maxMissingSlicesPerGap()));
                    }
                    gaps.add(new SliceGap(index, missing, d[i - 1]));
                }
                index += (int) k;
                indices[i] = index;
            }
            // The mean step over the whole stack is the best estimate of the grid step.
            step = (d[n - 1] - d[0]) / indices[n - 1];
        } else if (first.sliceThickness() != null && first.sliceThickness() > 0) {
            step = first.sliceThickness();
        }
        int nz = indices[n - 1] + 1;
        long voxels = (long) first.columns() * first.rows() * nz;
        if (voxels > policy.maxVoxels()) {
            throw new TriageException(ErrorCode.VOLUME_TOO_LARGE, String.format(
                    "%d×%d×%d = %d voxels exceeds the limit of %d", first.columns(), first.rows(), nz, voxels,
                    policy.maxVoxels()));
        }
        // Along a sheared stack the step is measured along the stacking direction.
        double dz = step / Math.cos(Math.toRadians(tilt));
        VolumeGeometry geometry = new VolumeGeometry(
                new int[] {first.columns(), first.rows(), nz},
                new double[] {first.pixelSpacing()[1], first.pixelSpacing()[0], dz},
                sorted.get(0).imagePosition(), row, col, sliceDirection, tilt);
        return new StackPlan(sorted, indices, geometry, gaps);
    }
}
