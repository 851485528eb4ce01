package org.cttriage.core.volume;

/**
 * How strictly slice geometry is checked when a volume is built. Immutable; validated on
 * construction. {@link #defaults()} documents every default.
 *
 * @param spacingTolerance       relative deviation of one slice step from the median step
 *                               still counted as uniform (default 0.1 = 10 %)
 * @param maxMissingSlicesPerGap missing slices one gap may have and still be filled by linear
 *                               interpolation between its neighbours (default 2); larger gaps
 *                               reject the series
 * @param gantryTilt             what to do with a gantry-tilted (sheared) stack (default
 *                               {@link GantryTiltPolicy#ACCEPT_SHEARED})
 * @param tiltToleranceDegrees   angles between stacking direction and slice normal up to this
 *                               are not tilt (default 0.5)
 * @param paddingHu              HU written where Pixel Padding Value marks pixels outside the
 *                               patient (default -1024, air)
 * @param maxVoxels              refuse volumes larger than this (default 512×512×2000)
 */
public record AssemblyPolicy(
        double spacingTolerance,
        int maxMissingSlicesPerGap,
        GantryTiltPolicy gantryTilt,
        double tiltToleranceDegrees,
        short paddingHu,
        long maxVoxels) {

    /** Gantry tilt makes the slice stack a parallelepiped rather than a box. */
    public enum GantryTiltPolicy {
        /** Keep the stack as acquired; the volume's slice direction is the stacking direction
         *  (not the slice normal), so every voxel keeps its true patient position. */
        ACCEPT_SHEARED,
        /** Reject tilted series with a reason. */
        REJECT
    }

    public AssemblyPolicy {
        if (!(spacingTolerance > 0 && spacingTolerance < 0.5)) {
            throw new IllegalArgumentException("spacingTolerance must be within (0, 0.5), was " + spacingTolerance);
        }
        if (maxMissingSlicesPerGap < 0) {
            throw new IllegalArgumentException("maxMissingSlicesPerGap must be >= 0, was " + maxMissingSlicesPerGap);
        }
        if (gantryTilt == null) {
            throw new IllegalArgumentException("gantryTilt must be one of ACCEPT_SHEARED, REJECT");
        }
        if (!(tiltToleranceDegrees >= 0 && tiltToleranceDegrees < 45)) {
            throw new IllegalArgumentException("tiltToleranceDegrees must be within 0..45, was " + tiltToleranceDegrees);
        }
        if (maxVoxels < 1 || maxVoxels > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxVoxels must be within 1.." + (Integer.MAX_VALUE - 8) + ", was " + maxVoxels);
        }
    }

    /** The defaults listed on the record. */
    public static AssemblyPolicy defaults() {
        return new AssemblyPolicy(0.1, 2, GantryTiltPolicy.ACCEPT_SHEARED, 0.5, (short) -1024, 512L * 512 * 2000);
    }

    /** Same policy with another gantry-tilt rule. */
    public AssemblyPolicy withGantryTilt(GantryTiltPolicy p) {
        return new AssemblyPolicy(spacingTolerance, maxMissingSlicesPerGap, p, tiltToleranceDegrees, paddingHu, maxVoxels);
    }

    /** Same policy with another gap limit. */
    public AssemblyPolicy withMaxMissingSlicesPerGap(int n) {
        return new AssemblyPolicy(spacingTolerance, n, gantryTilt, tiltToleranceDegrees, paddingHu, maxVoxels);
    }
}
