package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.FindingTruth;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.junit.jupiter.api.Test;

/** evaluate's location check: inside the lesion or within 10 mm of its centre, nothing else. */
class LocationHitsTest {
    private static Phantom phantom(long seed, PhantomFinding f) {
        return new PhantomGenerator().generate(new PhantomSpec(seed, 128, 128, 96, 400.0 / 128, 3.75, 3.75,
                ContrastPhase.NONE, Set.of(f), false));
    }

    private static List<Double> point(double[] c, double dx, double dy, double dz) {
        return List.of(c[0] + dx, c[1] + dy, c[2] + dz);
    }

    @Test
    void theCentreAndPointsWithinTenMillimetresHitFartherOnesMiss() {
        Phantom p = phantom(41, PhantomFinding.RENAL_CYST);
        FindingTruth cyst = p.truth().stream().filter(t -> t.finding() == PhantomFinding.RENAL_CYST).findFirst()
                .orElseThrow();
        double[] c = cyst.centreLpsMm();
        assertThat(LocationHits.hit(p, PhantomFinding.RENAL_CYST, point(c, 0, 0, 0))).isTrue();
        assertThat(LocationHits.hit(p, PhantomFinding.RENAL_CYST, point(c, 6, 0, -7))).as("9.2 mm away").isTrue();
        double far = cyst.sizeMm() / 2 + 30;
        assertThat(LocationHits.hit(p, PhantomFinding.RENAL_CYST, point(c, 0, 0, far))).as("outside, %.0f mm", far)
                .isFalse();
        assertThat(LocationHits.hit(p, PhantomFinding.RENAL_CYST, point(c, 0, 0, -far))).isFalse();
        // a finding the phantom does not have is never hit, even at a lesion of another finding
        assertThat(LocationHits.hit(p, PhantomFinding.LIVER_CYST, point(c, 0, 0, 0))).isFalse();
    }

    @Test
    void aPointInsideALargeLesionFarFromItsCentreHits() {
        Phantom p = null;
        FindingTruth mass = null;
        for (long seed = 1; mass == null && seed < 40; seed++) {
            Phantom q = phantom(seed, PhantomFinding.LIVER_MASS);
            mass = q.truth().stream().filter(t -> t.finding() == PhantomFinding.LIVER_MASS && t.sizeMm() > 40)
                    .findFirst().orElse(null);
            p = q;
        }
        assertThat(mass).as("a liver mass over 40 mm in seeds 1..39").isNotNull();
        double[] c = mass.centreLpsMm();
        double[] top = p.sliceOrigin(0);
        PhantomSpec s = p.spec();
        List<Double> inside = null;
        for (int z = 0; z < s.slices() && inside == null; z++) {
            for (int y = 0; y < s.rows() && inside == null; y++) {
                for (int x = 0; x < s.columns(); x++) {
                    if ((p.findingMask()[p.index(x, y, z)] >> PhantomFinding.LIVER_MASS.bit() & 1) == 0) {
                        continue;
                    }
                    List<Double> q = List.of(top[0] + x * s.pixelSpacingMm(), top[1] + y * s.pixelSpacingMm(),
                            top[2] - z * s.sliceSpacingMm());
                    double d = Math.sqrt(Math.pow(q.get(0) - c[0], 2) + Math.pow(q.get(1) - c[1], 2)
                            + Math.pow(q.get(2) - c[2], 2));
                    if (d > 15) {
                        inside = q;
                        break;
                    }
                }
            }
        }
        assertThat(inside).as("a voxel of the mass over 15 mm from its centre").isNotNull();
        assertThat(LocationHits.hit(p, PhantomFinding.LIVER_MASS, inside)).isTrue();
    }

    @Test
    void theFocalFindingsAreTheIssuesSeven() {
        assertThat(LocationHits.FOCAL).extracting(PhantomFinding::id).containsExactlyInAnyOrder("pulmonary_nodule",
                "liver_cyst", "liver_mass", "cholelithiasis", "renal_cyst", "nephrolithiasis", "pancreatic_mass");
        assertThat(LocationHits.focal("hepatomegaly")).isFalse();
    }
}
