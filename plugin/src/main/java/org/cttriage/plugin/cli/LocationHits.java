package org.cttriage.plugin.cli;

import java.util.List;
import java.util.Set;
import org.cttriage.testdata.phantom.FindingTruth;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomSpec;

/**
 * Issue 12's location check of {@code ct-triage evaluate}: a point reported for a focal finding hits
 * when it lies inside one of the finding's lesions (the phantom's finding mask at the voxel under the
 * point) or within {@link #TOLERANCE_MM} of a lesion's centre.
 */
final class LocationHits {
    /** Distance from a lesion's centre that still counts as a hit, mm. */
    static final double TOLERANCE_MM = 10.0;

    /** The focal findings: nodules, cysts, masses, stones and gallstones. */
    static final Set<PhantomFinding> FOCAL = Set.of(PhantomFinding.PULMONARY_NODULE, PhantomFinding.LIVER_CYST,
            PhantomFinding.LIVER_MASS, PhantomFinding.CHOLELITHIASIS, PhantomFinding.RENAL_CYST,
            PhantomFinding.NEPHROLITHIASIS, PhantomFinding.PANCREATIC_MASS);

    private LocationHits() {
    }

    /** Whether {@code id} names a focal finding. */
    static boolean focal(String id) {
        return FOCAL.stream().anyMatch(f -> f.id().equals(id));
    }

    /**
     * Whether {@code pointLps} (patient LPS, mm) hits one of the lesions of {@code finding} in
     * {@code phantom}; false when the phantom has none.
     */
    static boolean hit(Phantom phantom, PhantomFinding finding, List<Double> pointLps) {
        List<FindingTruth> lesions = phantom.truth().stream().filter(t -> t.finding() == finding).toList();
        if (lesions.isEmpty()) {
            return false;
        }
        for (FindingTruth t : lesions) {
            double[] c = t.centreLpsMm();
            double dx = pointLps.get(0) - c[0];
            double dy = pointLps.get(1) - c[1];
            double dz = pointLps.get(2) - c[2];
            if (Math.sqrt(dx * dx + dy * dy + dz * dz) <= TOLERANCE_MM) {
                return true;
            }
        }
        PhantomSpec s = phantom.spec();
        double[] top = phantom.sliceOrigin(0);
        long x = Math.round((pointLps.get(0) - top[0]) / s.pixelSpacingMm());
        long y = Math.round((pointLps.get(1) - top[1]) / s.pixelSpacingMm());
        long z = Math.round((top[2] - pointLps.get(2)) / s.sliceSpacingMm());
        if (x < 0 || y < 0 || z < 0 || x >= s.columns() || y >= s.rows() || z >= s.slices()) {
            return false;
        }
        return (phantom.findingMask()[phantom.index((int) x, (int) y, (int) z)] >> finding.bit() & 1) != 0;
    }
}
