package org.cttriage.core.volume;

/** The little vector algebra geometry checks need; package-private on purpose. */
final class Vectors {
    private Vectors() {
    }

    static double[] cross(double[] a, double[] b) {
        return new double[] {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
    }

    static double dot(double[] a, double[] b) {
        return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    }

    static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }

    static double[] normalise(double[] a) {
        double n = norm(a);
        return new double[] {a[0] / n, a[1] / n, a[2] / n};
    }

    static double[] sub(double[] a, double[] b) {
        return new double[] {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
    }

    /** Angle in degrees between two directions, ignoring their sign (0..90). */
    static double axisAngleDegrees(double[] a, double[] b) {
        double c = Math.abs(dot(a, b)) / (norm(a) * norm(b));
        return Math.toDegrees(Math.acos(Math.min(1.0, c)));
    }
}
