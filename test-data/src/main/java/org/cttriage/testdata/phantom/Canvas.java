package org.cttriage.testdata.phantom;

import java.util.Arrays;

/**
 * One axial plane being painted. Coordinates are the patient-centred model frame (mm), which
 * differs from LPS only by the in-plane table offset. A 1x1 canvas doubles as a point probe.
 */
final class Canvas {
    static final byte ZONE_AIR = 0;
    static final byte ZONE_FAT = 1;
    static final byte ZONE_WALL = 2;
    static final byte ZONE_CAVITY = 3;

    final int nx;
    final int ny;
    double x0;
    double y0;
    final double ps;
    /** Lesions smaller than half a voxel diagonal still mark the voxel holding their centre. */
    final double maskPad;
    final float[] hu;
    final byte[] lab;
    final short[] mask;
    final byte[] zone;

    Canvas(int nx, int ny, double x0, double y0, double ps, double maskPad) {
        this.nx = nx;
        this.ny = ny;
        this.x0 = x0;
        this.y0 = y0;
        this.ps = ps;
        this.maskPad = maskPad;
        int n = nx * ny;
        hu = new float[n];
        lab = new byte[n];
        mask = new short[n];
        zone = new byte[n];
    }

    void reset() {
        Arrays.fill(hu, -1000f);
        Arrays.fill(lab, (byte) 0);
        Arrays.fill(mask, (short) 0);
        Arrays.fill(zone, ZONE_AIR);
    }

    int ix0(double xmin) {
        double v = Math.ceil((xmin - x0) / ps);
        return v <= 0 ? 0 : (v >= nx ? nx : (int) v);
    }

    int ix1(double xmax) {
        double v = Math.floor((xmax - x0) / ps);
        return v >= nx - 1 ? nx - 1 : (v < 0 ? -1 : (int) v);
    }

    int iy0(double ymin) {
        double v = Math.ceil((ymin - y0) / ps);
        return v <= 0 ? 0 : (v >= ny ? ny : (int) v);
    }

    int iy1(double ymax) {
        double v = Math.floor((ymax - y0) / ps);
        return v >= ny - 1 ? ny - 1 : (v < 0 ? -1 : (int) v);
    }
}
