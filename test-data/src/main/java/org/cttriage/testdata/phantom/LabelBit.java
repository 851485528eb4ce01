package org.cttriage.testdata.phantom;

/**
 * Marks a diffuse finding: sets a mask bit wherever the voxel already carries a given organ label,
 * optionally only inside an axis-aligned ellipsoidal region and a z band.
 */
final class LabelBit extends Element {
    private final int label;
    private final int bit;
    private final double[] region; // cx, cy, cz, a, b, c or null

    LabelBit(Organ organ, PhantomFinding f, double zLo, double zHi, double[] region) {
        this.label = organ.label();
        this.bit = f.bit();
        this.region = region;
        zMin = zLo;
        zMax = zHi;
        if (region != null) {
            zMin = Math.max(zMin, region[2] - region[5]);
            zMax = Math.min(zMax, region[2] + region[5]);
        }
    }

    @Override
    void paint(Canvas c, double z) {
        int i0 = 0, i1 = c.nx - 1, j0 = 0, j1 = c.ny - 1;
        double wz2 = 0;
        if (region != null) {
            i0 = c.ix0(region[0] - region[3]);
            i1 = c.ix1(region[0] + region[3]);
            j0 = c.iy0(region[1] - region[4]);
            j1 = c.iy1(region[1] + region[4]);
            double w = (z - region[2]) / region[5];
            wz2 = w * w;
        }
        short b = (short) (1 << bit);
        for (int j = j0; j <= j1; j++) {
            int row = j * c.nx;
            double v = region == null ? 0 : (c.y0 + j * c.ps - region[1]) / region[4];
            for (int i = i0; i <= i1; i++) {
                int idx = row + i;
                if (c.lab[idx] != label) {
                    continue;
                }
                if (region != null) {
                    double u = (c.x0 + i * c.ps - region[0]) / region[3];
                    if (u * u + v * v + wz2 >= 1) {
                        continue;
                    }
                }
                c.mask[idx] |= b;
            }
        }
    }
}
