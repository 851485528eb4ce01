package org.cttriage.testdata.phantom;

import java.util.List;

/**
 * A generated phantom. Voxel arrays are x fastest, then y (row), then z (slice):
 * {@code index = (z * rows + y) * columns + x}. For speed the arrays are returned without copying;
 * treat them as read-only.
 *
 * <p>Orientation: row direction (1,0,0) = patient left, column direction (0,1,0) = posterior;
 * slice 0 is the most superior and slice z lies at {@code zTop - z * sliceSpacing}.
 */
public final class Phantom {
    private final PhantomSpec spec;
    private final short[] hu;
    private final byte[] labels;
    private final short[] mask;
    private final double x0;
    private final double y0;
    private final double zTop;
    private final List<FindingTruth> truth;
    private final PatientHabitus habitus;

    Phantom(PhantomSpec spec, short[] hu, byte[] labels, short[] mask, double x0, double y0, double zTop,
            List<FindingTruth> truth, PatientHabitus habitus) {
        this.spec = spec;
        this.hu = hu;
        this.labels = labels;
        this.mask = mask;
        this.x0 = x0;
        this.y0 = y0;
        this.zTop = zTop;
        this.truth = List.copyOf(truth);
        this.habitus = habitus;
    }

    /** The request this phantom was generated from. */
    public PhantomSpec spec() {
        return spec;
    }

    /** Hounsfield units including noise, clamped to [-1024, 3071]. */
    public short[] hu() {
        return hu;
    }

    /** {@link Organ#label()} of the organ at each voxel centre. */
    public byte[] organLabels() {
        return labels;
    }

    /**
     * Bit {@link PhantomFinding#bit()} is set where that finding is: lesion voxels, or the affected
     * organ/region for diffuse findings (steatosis, hepatomegaly, splenomegaly, emphysema, aneurysm segment).
     */
    public short[] findingMask() {
        return mask;
    }

    /** LPS millimetres of the centre of pixel (0,0) of slice z, i.e. DICOM ImagePositionPatient. */
    public double[] sliceOrigin(int z) {
        if (z < 0 || z >= spec.slices()) {
            throw new IndexOutOfBoundsException("slice " + z + " outside 0.." + (spec.slices() - 1));
        }
        return new double[] {x0, y0, zTop - z * spec.sliceSpacingMm()};
    }

    /** Every inserted finding (one entry per lesion). */
    public List<FindingTruth> truth() {
        return truth;
    }

    /** The simulated patient's body habitus. */
    public PatientHabitus habitus() {
        return habitus;
    }

    /** Flat voxel index helper. */
    public int index(int x, int y, int z) {
        return (z * spec.rows() + y) * spec.columns() + x;
    }
}
