package org.cttriage.testdata.phantom;

/** A piece of the analytic model that paints itself into an axial plane at height z. */
abstract class Element {
    double zMin = Double.NEGATIVE_INFINITY;
    double zMax = Double.POSITIVE_INFINITY;

    abstract void paint(Canvas c, double z);

    /** Optional spatial HU variation inside a shape; q is the shape's normalised radius squared. */
    interface Shader {
        float hu(double x, double y, double z, double q);
    }
}
