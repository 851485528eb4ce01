package org.cttriage.testdata.phantom;

/**
 * Randomised body habitus of the simulated patient. Width and depth are the largest axial outer
 * dimensions of the body within the modelled trunk, so they follow from height and weight.
 *
 * @param sex         'M' or 'F'
 * @param ageYears    age in whole years
 * @param weightKg    body weight
 * @param heightCm    body height
 * @param bodyWidthMm largest left-right body diameter
 * @param bodyDepthMm largest antero-posterior body diameter
 */
public record PatientHabitus(char sex, int ageYears, double weightKg, double heightCm,
                             double bodyWidthMm, double bodyDepthMm) {

    /** Body-mass index in kg/m². */
    public double bmi() {
        double m = heightCm / 100.0;
        return weightKg / (m * m);
    }
}
