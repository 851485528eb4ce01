package org.cttriage.core.dicom;

import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * The header values a CT volume is built from, checked against what a CT image can have
 * before anything else trusts them. A non-finite or absurd Rescale Slope once produced a
 * confident "Present" SR from pixel values no scanner makes; a zero Pixel Spacing made a
 * singular geometry that failed deep inside triage. Every limit here is far outside real
 * CT data, so nothing a scanner sends is refused, and everything the volume, the model and
 * the SR's coordinates depend on is finite and non-degenerate.
 *
 * <p>Limits (PS3.3 C.8.2.1 CT Image Module and C.7.6.2 Image Plane Module):
 * <ul>
 *   <li>Rescale Slope a finite number above 0; Rescale Intercept finite;</li>
 *   <li>the range the stored values can reach after rescale (from Bits Stored and Pixel
 *       Representation) must hold air and bone ({@value #MUST_REACH_LOW_HU} and
 *       {@value #MUST_REACH_HIGH_HU} HU) and stay within ±{@value #MAX_ABS_HU} HU;</li>
 *   <li>Pixel Spacing within {@value #MIN_PIXEL_SPACING_MM}–{@value #MAX_PIXEL_SPACING_MM} mm;</li>
 *   <li>Image Position (Patient) finite, within ±{@value #MAX_ABS_POSITION_MM} mm;</li>
 *   <li>Image Orientation (Patient) two unit vectors (within {@value #ORIENTATION_TOLERANCE})
 *       that are orthogonal (dot product within the same tolerance);</li>
 *   <li>Slice Thickness, when present, within 0–{@value #MAX_SLICE_THICKNESS_MM} mm;</li>
 *   <li>Bits Allocated 8 or 16, Bits Stored 1…Bits Allocated, High Bit = Bits Stored − 1
 *       (C.8.2.1.1.4), Pixel Representation 0 or 1.</li>
 * </ul>
 * Absent geometry is not judged here: series selection reports it with its own code.
 */
public final class HeaderPlausibility {
    /** The rescaled range must reach at least this low (air is about -1000 HU). */
    public static final double MUST_REACH_LOW_HU = -1000;
    /** The rescaled range must reach at least this high (cortical bone is above +1000 HU). */
    public static final double MUST_REACH_HIGH_HU = 1000;
    /** No CT scale, extended ones included, goes beyond this. */
    public static final double MAX_ABS_HU = 131072;
    public static final double MIN_PIXEL_SPACING_MM = 0.01;
    public static final double MAX_PIXEL_SPACING_MM = 50;
    public static final double MAX_ABS_POSITION_MM = 10_000;
    public static final double ORIENTATION_TOLERANCE = 0.01;
    public static final double MAX_SLICE_THICKNESS_MM = 100;

    private HeaderPlausibility() {
    }

    /**
     * Throws {@link ErrorCode#IMPLAUSIBLE_HEADER_VALUE} naming the first value out of bounds.
     *
     * @param h one frame's header
     */
    public static void check(SliceHeader h) throws TriageException {
        bits(h);
        rescale(h);
        if (h.pixelSpacing() != null) {
            for (double v : h.pixelSpacing()) {
                if (!(v >= MIN_PIXEL_SPACING_MM && v <= MAX_PIXEL_SPACING_MM)) {
                    throw implausible("Pixel Spacing " + v + " mm is outside " + MIN_PIXEL_SPACING_MM + "–"
                            + MAX_PIXEL_SPACING_MM + " mm");
                }
            }
        }
        if (h.imagePosition() != null) {
            for (double v : h.imagePosition()) {
                if (!(Math.abs(v) <= MAX_ABS_POSITION_MM)) {
                    throw implausible("Image Position (Patient) " + v + " mm is not finite or beyond ±"
                            + MAX_ABS_POSITION_MM + " mm");
                }
            }
        }
        if (h.imageOrientation() != null) {
            orientation(h.imageOrientation());
        }
        if (h.sliceThickness() != null) {
            double t = h.sliceThickness();
            if (!(t >= 0 && t <= MAX_SLICE_THICKNESS_MM)) {
                throw implausible("Slice Thickness " + t + " mm is outside 0–" + MAX_SLICE_THICKNESS_MM + " mm");
            }
        }
    }

    private static void bits(SliceHeader h) throws TriageException {
        int allocated = h.bitsAllocated();
        if (allocated != 8 && allocated != 16) {
            throw implausible("Bits Allocated " + allocated + " (a CT image has 16)");
        }
        if (h.bitsStored() < 1 || h.bitsStored() > allocated) {
            throw implausible("Bits Stored " + h.bitsStored() + " is not 1–" + allocated + " (Bits Allocated)");
        }
        if (h.highBit() != h.bitsStored() - 1) {
            throw implausible("High Bit " + h.highBit() + " is not Bits Stored − 1 (" + (h.bitsStored() - 1) + ")");
        }
        if (h.pixelRepresentation() != 0 && h.pixelRepresentation() != 1) {
            throw implausible("Pixel Representation " + h.pixelRepresentation() + " is neither 0 nor 1");
        }
    }

    private static void rescale(SliceHeader h) throws TriageException {
        double slope = h.rescaleSlope();
        double intercept = h.rescaleIntercept();
        if (!(slope > 0) || !Double.isFinite(slope)) {
            throw implausible("Rescale Slope " + slope + " is not a finite number above 0");
        }
        if (!Double.isFinite(intercept)) {
            throw implausible("Rescale Intercept " + intercept + " is not finite");
        }
        boolean signed = h.pixelRepresentation() == 1;
        double storedMin = signed ? -Math.pow(2, h.bitsStored() - 1) : 0;
        double storedMax = signed ? Math.pow(2, h.bitsStored() - 1) - 1 : Math.pow(2, h.bitsStored()) - 1;
        double low = storedMin * slope + intercept;
        double high = storedMax * slope + intercept;
        if (low > MUST_REACH_LOW_HU || high < MUST_REACH_HIGH_HU) {
            throw implausible(String.format(java.util.Locale.ROOT, "Rescale Slope %s and Intercept %s map the %d stored"
                    + " bits to %.0f…%.0f HU, which cannot hold both air (%.0f HU) and bone (%.0f HU)", slope,
                    intercept, h.bitsStored(), low, high, MUST_REACH_LOW_HU, MUST_REACH_HIGH_HU));
        }
        if (low < -MAX_ABS_HU || high > MAX_ABS_HU) {
            throw implausible(String.format(java.util.Locale.ROOT, "Rescale Slope %s and Intercept %s map the %d stored"
                    + " bits to %.0f…%.0f HU, beyond any CT scale (±%.0f HU)", slope, intercept, h.bitsStored(), low,
                    high, MAX_ABS_HU));
        }
    }

    private static void orientation(double[] o) throws TriageException {
        for (double v : o) {
            if (!Double.isFinite(v)) {
                throw implausible("Image Orientation (Patient) has a non-finite value");
            }
        }
        double row = Math.sqrt(o[0] * o[0] + o[1] * o[1] + o[2] * o[2]);
        double column = Math.sqrt(o[3] * o[3] + o[4] * o[4] + o[5] * o[5]);
        double dot = o[0] * o[3] + o[1] * o[4] + o[2] * o[5];
        if (Math.abs(row - 1) > ORIENTATION_TOLERANCE || Math.abs(column - 1) > ORIENTATION_TOLERANCE
                || Math.abs(dot) > ORIENTATION_TOLERANCE) {
            throw implausible(String.format(java.util.Locale.ROOT, "Image Orientation (Patient) is not two orthogonal"
                    + " unit vectors (lengths %.4f and %.4f, dot product %.4f)", row, column, dot));
        }
    }

    private static TriageException implausible(String why) {
        return new TriageException(ErrorCode.IMPLAUSIBLE_HEADER_VALUE, why);
    }
}
