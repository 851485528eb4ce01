package org.cttriage.testdata.phantom;

/**
 * Rotated ellipsoid, optionally lobulated and with an anti-aliased edge. Soft edges matter for
 * small lesions: sampling only at pixel centres would make a 3 mm stone appear or vanish with
 * sub-pixel shifts, whereas real CT blurs it into its neighbours.
 */
final class Ellipsoid extends Element {
    final double cx, cy, cz;
    final double a, b, c;
    /** Rows are the local u, v, w axes expressed in the model frame. */
    private final double[] r = new double[9];
    private final double hx, hy;
    final Ink ink;
    Shader shader;
    boolean soft;
    private double lobeAmp;
    private double p1, p2, p3;

    /**
     * @param yaw   rotation about z (radians), applied last
     * @param pitch rotation about x (tilts the w axis antero-posteriorly)
     * @param roll  rotation about y (tilts the w axis left-right)
     */
    Ellipsoid(double cx, double cy, double cz, double a, double b, double c,
              double yaw, double pitch, double roll, Ink ink) {
        this.cx = cx;
        this.cy = cy;
        this.cz = cz;
        this.a = a;
        this.b = b;
        this.c = c;
        this.ink = ink;
        // M = Rz(yaw) * Rx(pitch) * Ry(roll); columns of M are the local axes in frame coordinates.
        double cy0 = Math.cos(yaw), sy = Math.sin(yaw);
        double cp = Math.cos(pitch), sp = Math.sin(pitch);
        double cr = Math.cos(roll), sr = Math.sin(roll);
        double[][] ry = {{cr, 0, sr}, {0, 1, 0}, {-sr, 0, cr}};
        double[][] rx = {{1, 0, 0}, {0, cp, -sp}, {0, sp, cp}};
        double[][] rz = {{cy0, -sy, 0}, {sy, cy0, 0}, {0, 0, 1}};
        double[][] m = mul(rz, mul(rx, ry));
        for (int row = 0; row < 3; row++) {
            for (int col = 0; col < 3; col++) {
                r[row * 3 + col] = m[col][row];
            }
        }
        double[] s = {a, b, c};
        double ex = 0, ey = 0, ez = 0;
        for (int k = 0; k < 3; k++) {
            ex += sq(r[k * 3] * s[k]);
            ey += sq(r[k * 3 + 1] * s[k]);
            ez += sq(r[k * 3 + 2] * s[k]);
        }
        hx = Math.sqrt(ex);
        hy = Math.sqrt(ey);
        double hz = Math.sqrt(ez);
        zMin = cz - hz;
        zMax = cz + hz;
    }

    static Ellipsoid sphere(double x, double y, double z, double radius, Ink ink) {
        return new Ellipsoid(x, y, z, radius, radius, radius, 0, 0, 0, ink);
    }

    Ellipsoid shader(Shader s) {
        this.shader = s;
        return this;
    }

    /** Anti-aliased edge; also widens the z extent so neighbouring slabs see the partial volume. */
    Ellipsoid soft(double pad) {
        soft = true;
        zMin -= pad;
        zMax += pad;
        return this;
    }

    Ellipsoid lobulated(double amp, java.util.SplittableRandom rng) {
        lobeAmp = amp;
        p1 = rng.nextDouble() * 6.283;
        p2 = rng.nextDouble() * 6.283;
        p3 = rng.nextDouble() * 6.283;
        return this;
    }

    /** Local axis k (0=u, 1=v, 2=w) as a unit vector in the model frame. */
    double[] axis(int k) {
        return new double[] {r[k * 3], r[k * 3 + 1], r[k * 3 + 2]};
    }

    double halfX() {
        return hx;
    }

    double halfY() {
        return hy;
    }

    /** Normalised radius squared of a point (inside when &lt; 1), ignoring lobulation. */
    double q(double x, double y, double z) {
        double dx = x - cx, dy = y - cy, dz = z - cz;
        double u = (r[0] * dx + r[1] * dy + r[2] * dz) / a;
        double v = (r[3] * dx + r[4] * dy + r[5] * dz) / b;
        double w = (r[6] * dx + r[7] * dy + r[8] * dz) / c;
        return u * u + v * v + w * w;
    }

    @Override
    void paint(Canvas cv, double z) {
        double dz = z - cz;
        double pad = soft ? cv.ps + cv.maskPad : 0;
        int i0 = cv.ix0(cx - hx - pad), i1 = cv.ix1(cx + hx + pad);
        int j0 = cv.iy0(cy - hy - pad), j1 = cv.iy1(cy + hy + pad);
        if (i0 > i1 || j0 > j1) {
            return;
        }
        double ia = 1 / a, ib = 1 / b, ic = 1 / c;
        double uz = r[2] * dz, vz = r[5] * dz, wz = r[8] * dz;
        double rEq = Math.cbrt(a * b * c);
        double maskR = Math.max(0, cv.maskPad - rEq);
        for (int j = j0; j <= j1; j++) {
            double y = cv.y0 + j * cv.ps;
            double dy = y - cy;
            double uy = r[1] * dy + uz, vy = r[4] * dy + vz, wy = r[7] * dy + wz;
            int row = j * cv.nx;
            for (int i = i0; i <= i1; i++) {
                double x = cv.x0 + i * cv.ps;
                double dx = x - cx;
                double u = (r[0] * dx + uy) * ia;
                double v = (r[3] * dx + vy) * ib;
                double w = (r[6] * dx + wy) * ic;
                double q = u * u + v * v + w * w;
                if (lobeAmp != 0 && q > 1e-12) {
                    double n = Math.sqrt(q);
                    double mod = 1 + lobeAmp * (Math.sin(4 * u / n + p1) * Math.sin(4 * v / n + p2)
                            + 0.5 * Math.sin(5 * w / n + p3)) / 1.5;
                    q /= mod * mod;
                }
                int idx = row + i;
                if (!soft) {
                    if (q >= 1 || !ink.accepts(cv, idx)) {
                        continue;
                    }
                    float val = shader == null ? ink.hu : shader.hu(x, y, z, q);
                    ink.put(cv, idx, val);
                } else {
                    double d = (Math.sqrt(q) - 1) * rEq;
                    double frac = 0.5 - d / cv.ps;
                    boolean inMask = d <= maskR;
                    if (frac <= 0 && !inMask) {
                        continue;
                    }
                    if (!ink.accepts(cv, idx)) {
                        continue;
                    }
                    if (ink.setHu && frac > 0) {
                        float val = shader == null ? ink.hu : shader.hu(x, y, z, q);
                        float f = (float) Math.min(1, frac);
                        if (!(ink.raiseOnly && val < cv.hu[idx])) {
                            cv.hu[idx] += f * (val - cv.hu[idx]);
                        }
                    }
                    if (d <= 0 && ink.label >= 0) {
                        cv.lab[idx] = (byte) ink.label;
                    }
                    if (inMask && ink.bit >= 0) {
                        cv.mask[idx] |= (short) (1 << ink.bit);
                    }
                }
            }
        }
    }

    private static double sq(double v) {
        return v * v;
    }

    private static double[][] mul(double[][] p, double[][] q) {
        double[][] o = new double[3][3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                for (int k = 0; k < 3; k++) {
                    o[i][j] += p[i][k] * q[k][j];
                }
            }
        }
        return o;
    }
}
