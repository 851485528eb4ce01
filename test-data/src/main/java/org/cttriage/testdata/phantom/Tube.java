package org.cttriage.testdata.phantom;

import java.util.Arrays;

/**
 * A set of capsule segments with linearly varying radius: vessels, airways, ribs, the aorta.
 * Optionally a rim (vessel wall, cortical bone) of a different value.
 */
final class Tube extends Element {
    private double[] s = new double[64];
    private int n;
    final Ink ink;
    double rim;
    float rimHu;

    Tube(Ink ink) {
        this.ink = ink;
        zMin = Double.POSITIVE_INFINITY;
        zMax = Double.NEGATIVE_INFINITY;
    }

    Tube rim(double width, double hu) {
        rim = width;
        rimHu = (float) hu;
        return this;
    }

    Tube segment(double ax, double ay, double az, double ar, double bx, double by, double bz, double br) {
        if (8 * (n + 1) > s.length) {
            s = Arrays.copyOf(s, s.length * 2);
        }
        int o = 8 * n++;
        s[o] = ax;
        s[o + 1] = ay;
        s[o + 2] = az;
        s[o + 3] = ar;
        s[o + 4] = bx;
        s[o + 5] = by;
        s[o + 6] = bz;
        s[o + 7] = br;
        double rm = Math.max(ar, br);
        zMin = Math.min(zMin, Math.min(az, bz) - rm);
        zMax = Math.max(zMax, Math.max(az, bz) + rm);
        return this;
    }

    /** Consecutive segments through nodes given as {x, y, z, r}. */
    Tube polyline(double[][] nodes) {
        for (int k = 0; k + 1 < nodes.length; k++) {
            double[] p = nodes[k], q = nodes[k + 1];
            segment(p[0], p[1], p[2], p[3], q[0], q[1], q[2], q[3]);
        }
        return this;
    }

    double[] bounds() {
        double[] bb = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY, zMin, zMax};
        for (int k = 0; k < n; k++) {
            int o = 8 * k;
            double rm = Math.max(s[o + 3], s[o + 7]);
            bb[0] = Math.min(bb[0], Math.min(s[o], s[o + 4]) - rm);
            bb[1] = Math.max(bb[1], Math.max(s[o], s[o + 4]) + rm);
            bb[2] = Math.min(bb[2], Math.min(s[o + 1], s[o + 5]) - rm);
            bb[3] = Math.max(bb[3], Math.max(s[o + 1], s[o + 5]) + rm);
        }
        return bb;
    }

    @Override
    void paint(Canvas c, double z) {
        for (int k = 0; k < n; k++) {
            int o = 8 * k;
            double ax = s[o], ay = s[o + 1], az = s[o + 2], ar = s[o + 3];
            double bx = s[o + 4], by = s[o + 5], bz = s[o + 6], br = s[o + 7];
            double rm = Math.max(ar, br);
            if (z < Math.min(az, bz) - rm || z > Math.max(az, bz) + rm) {
                continue;
            }
            double dx = bx - ax, dy = by - ay, dz = bz - az;
            // Only the part of the segment within rm of this plane can touch it.
            double t0 = 0, t1 = 1;
            if (Math.abs(dz) > 1e-9) {
                double ta = (z - rm - az) / dz, tb = (z + rm - az) / dz;
                t0 = Math.max(0, Math.min(ta, tb));
                t1 = Math.min(1, Math.max(ta, tb));
            }
            double xa = ax + t0 * dx, xb = ax + t1 * dx, ya = ay + t0 * dy, yb = ay + t1 * dy;
            int i0 = c.ix0(Math.min(xa, xb) - rm), i1 = c.ix1(Math.max(xa, xb) + rm);
            int j0 = c.iy0(Math.min(ya, yb) - rm), j1 = c.iy1(Math.max(ya, yb) + rm);
            if (i0 > i1 || j0 > j1) {
                continue;
            }
            double l2 = dx * dx + dy * dy + dz * dz;
            double inv = l2 > 1e-12 ? 1 / l2 : 0;
            double wz = z - az;
            for (int j = j0; j <= j1; j++) {
                double wy = c.y0 + j * c.ps - ay;
                int row = j * c.nx;
                for (int i = i0; i <= i1; i++) {
                    double wx = c.x0 + i * c.ps - ax;
                    double t = (wx * dx + wy * dy + wz * dz) * inv;
                    t = t < 0 ? 0 : (t > 1 ? 1 : t);
                    double ex = wx - t * dx, ey = wy - t * dy, ez = wz - t * dz;
                    double d2 = ex * ex + ey * ey + ez * ez;
                    double rr = ar + t * (br - ar);
                    if (d2 >= rr * rr) {
                        continue;
                    }
                    int idx = row + i;
                    if (!ink.accepts(c, idx)) {
                        continue;
                    }
                    float v = ink.hu;
                    if (rim > 0 && d2 > (rr - rim) * (rr - rim)) {
                        v = rimHu;
                    }
                    ink.put(c, idx, v);
                }
            }
        }
    }
}
