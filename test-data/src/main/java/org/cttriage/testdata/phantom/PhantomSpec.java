package org.cttriage.testdata.phantom;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Immutable request for one phantom. Geometry: axial slices of a supine, head-first patient in
 * DICOM LPS coordinates; slice 0 is the most superior.
 *
 * @param seed             everything random (anatomy, findings, noise) derives from this
 * @param columns          in-plane matrix width, 16..1024
 * @param rows             in-plane matrix height, 16..1024
 * @param slices           number of axial slices, 1..2000
 * @param pixelSpacingMm   in-plane spacing (same on both axes), &gt; 0
 * @param sliceSpacingMm   distance between slice centres, &gt; 0
 * @param sliceThicknessMm reconstructed slab thickness, &ge; 0; each voxel averages
 *                         {@code max(1, round(thickness / 1 mm))} sub-samples across the slab
 * @param phase            contrast timing
 * @param findings         findings inserted for certain (never null; copied)
 * @param randomFindings   when true each finding is additionally drawn with its prevalence; drawn
 *                         findings whose organ lies outside the coverage are silently skipped
 */
public record PhantomSpec(long seed, int columns, int rows, int slices,
                          double pixelSpacingMm, double sliceSpacingMm, double sliceThicknessMm,
                          ContrastPhase phase, Set<PhantomFinding> findings, boolean randomFindings) {

    /** Validates every field; messages name the offending field so CLI users can fix their input. */
    public PhantomSpec {
        if (columns < 16 || columns > 1024) {
            throw new IllegalArgumentException("columns must be in 16..1024, was " + columns);
        }
        if (rows < 16 || rows > 1024) {
            throw new IllegalArgumentException("rows must be in 16..1024, was " + rows);
        }
        if (slices < 1 || slices > 2000) {
            throw new IllegalArgumentException("slices must be in 1..2000, was " + slices);
        }
        if (!(pixelSpacingMm > 0) || Double.isInfinite(pixelSpacingMm) || pixelSpacingMm > 50) {
            throw new IllegalArgumentException("pixelSpacingMm must be > 0 and <= 50, was " + pixelSpacingMm);
        }
        if (!(sliceSpacingMm > 0) || Double.isInfinite(sliceSpacingMm) || sliceSpacingMm > 100) {
            throw new IllegalArgumentException("sliceSpacingMm must be > 0 and <= 100, was " + sliceSpacingMm);
        }
        if (!(sliceThicknessMm >= 0) || Double.isInfinite(sliceThicknessMm) || sliceThicknessMm > 100) {
            throw new IllegalArgumentException("sliceThicknessMm must be >= 0 and <= 100, was " + sliceThicknessMm);
        }
        if (phase == null) {
            throw new IllegalArgumentException("phase must not be null");
        }
        if (findings == null) {
            throw new IllegalArgumentException("findings must not be null (use an empty set)");
        }
        EnumSet<PhantomFinding> copy = EnumSet.noneOf(PhantomFinding.class);
        for (PhantomFinding f : findings) {
            if (f == null) {
                throw new IllegalArgumentException("findings must not contain null");
            }
            copy.add(f);
        }
        findings = Collections.unmodifiableSet(copy);
    }

    /**
     * A quick 128x128x96 scan: ~400 mm field of view and ~360 mm coverage (lung apex to the lower
     * kidney poles), thickness equal to spacing, unenhanced, no findings.
     */
    public static PhantomSpec defaults(long seed) {
        return new PhantomSpec(seed, 128, 128, 96, 400.0 / 128, 360.0 / 96, 360.0 / 96,
                ContrastPhase.NONE, Set.of(), false);
    }

    /** Copy with another finding set. */
    public PhantomSpec withFindings(Set<PhantomFinding> newFindings) {
        return new PhantomSpec(seed, columns, rows, slices, pixelSpacingMm, sliceSpacingMm,
                sliceThicknessMm, phase, Objects.requireNonNull(newFindings), randomFindings);
    }

    /** Copy with another contrast phase. */
    public PhantomSpec withPhase(ContrastPhase newPhase) {
        return new PhantomSpec(seed, columns, rows, slices, pixelSpacingMm, sliceSpacingMm,
                sliceThicknessMm, newPhase, findings, randomFindings);
    }
}
