package org.cttriage.testdata.phantom;

import java.util.Arrays;

/**
 * A rendered axis-aligned region of a {@link PhantomScene}. Arrays are x fastest, then y, then z:
 * {@code index = (k * size[1] + j) * size[0] + i}; voxel (i, j, k) lies at
 * {@code originLps + (i·sx, j·sy, k·sz)}, z increasing towards the head (unlike {@link Phantom},
 * whose slice 0 is the most superior), which is the layout of a volume ordered along +Z.
 * Arrays are returned without copying; treat them as read-only.
 *
 * @param size         voxels along x, y, z
 * @param originLps    centre of voxel (0, 0, 0), LPS mm
 * @param spacingMm    spacing along x, y, z
 * @param hu           HU including noise, clamped to [-1024, 3071]
 * @param organLabels  {@link Organ#label()} at each voxel centre
 * @param findingMask  bit {@link PhantomFinding#bit()} set where that finding is
 */
public record PhantomRegion(int[] size, double[] originLps, double[] spacingMm, short[] hu, byte[] organLabels,
                            short[] findingMask) {

    public PhantomRegion {
        size = size.clone();
        originLps = originLps.clone();
        spacingMm = spacingMm.clone();
        long n = (long) size[0] * size[1] * size[2];
        if (hu.length != n || organLabels.length != n || findingMask.length != n) {
            throw new IllegalArgumentException("arrays must hold " + n + " voxels");
        }
    }

    @Override
    public int[] size() {
        return size.clone();
    }

    @Override
    public double[] originLps() {
        return originLps.clone();
    }

    @Override
    public double[] spacingMm() {
        return spacingMm.clone();
    }

    @Override
    public String toString() {
        return "PhantomRegion[size=" + Arrays.toString(size) + ", origin=" + Arrays.toString(originLps)
                + ", spacing=" + Arrays.toString(spacingMm) + "]";
    }
}
