package org.cttriage.testdata.phantom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PhantomSpecTest {

    private static PhantomSpec spec(int cols, int rows, int slices, double ps, double ss, double th) {
        return new PhantomSpec(1, cols, rows, slices, ps, ss, th, ContrastPhase.NONE, Set.of(), false);
    }

    private static void assertRejected(String field, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(field), () -> "message should name " + field + ": " + e.getMessage());
    }

    @Test
    void defaultsCoverChestAndAbdomen() {
        PhantomSpec d = PhantomSpec.defaults(5);
        assertEquals(128, d.columns());
        assertEquals(128, d.rows());
        assertEquals(96, d.slices());
        assertEquals(400, d.columns() * d.pixelSpacingMm(), 1e-9);
        assertEquals(360, d.slices() * d.sliceSpacingMm(), 1e-9);
        assertEquals(d.sliceSpacingMm(), d.sliceThicknessMm(), 1e-12);
        assertEquals(ContrastPhase.NONE, d.phase());
        assertTrue(d.findings().isEmpty());
        assertTrue(!d.randomFindings());
    }

    @Test
    void validationNamesTheField() {
        assertRejected("columns", () -> spec(15, 64, 10, 1, 1, 1));
        assertRejected("columns", () -> spec(1025, 64, 10, 1, 1, 1));
        assertRejected("rows", () -> spec(64, 8, 10, 1, 1, 1));
        assertRejected("slices", () -> spec(64, 64, 0, 1, 1, 1));
        assertRejected("slices", () -> spec(64, 64, 2001, 1, 1, 1));
        assertRejected("pixelSpacingMm", () -> spec(64, 64, 10, 0, 1, 1));
        assertRejected("pixelSpacingMm", () -> spec(64, 64, 10, Double.NaN, 1, 1));
        assertRejected("sliceSpacingMm", () -> spec(64, 64, 10, 1, -1, 1));
        assertRejected("sliceThicknessMm", () -> spec(64, 64, 10, 1, 1, -0.5));
        assertRejected("phase", () -> new PhantomSpec(1, 64, 64, 10, 1, 1, 1, null, Set.of(), false));
        assertRejected("findings", () -> new PhantomSpec(1, 64, 64, 10, 1, 1, 1, ContrastPhase.NONE, null, false));
        Set<PhantomFinding> withNull = new HashSet<>();
        withNull.add(null);
        assertRejected("findings", () -> new PhantomSpec(1, 64, 64, 10, 1, 1, 1, ContrastPhase.NONE, withNull, false));
    }

    @Test
    void zeroThicknessIsAllowed() {
        assertEquals(0.0, spec(64, 64, 10, 1, 1, 0).sliceThicknessMm());
    }

    @Test
    void findingsAreCopiedAndImmutable() {
        Set<PhantomFinding> fs = EnumSet.of(PhantomFinding.LIVER_CYST);
        PhantomSpec s = PhantomSpec.defaults(1).withFindings(fs);
        fs.add(PhantomFinding.RENAL_CYST);
        assertEquals(Set.of(PhantomFinding.LIVER_CYST), s.findings());
        assertThrows(UnsupportedOperationException.class, () -> s.findings().add(PhantomFinding.EMPHYSEMA));
    }

    @Test
    void findingIdsAreStableAndBitsUnique() {
        Set<Integer> bits = new HashSet<>();
        for (PhantomFinding f : PhantomFinding.values()) {
            assertEquals(f, PhantomFinding.fromId(f.id()));
            assertTrue(f.bit() >= 0 && f.bit() < 16);
            assertTrue(bits.add(f.bit()));
            assertTrue(f.prevalence() > 0 && f.prevalence() < 1);
        }
        assertEquals(16, bits.size());
        assertEquals(0, PhantomFinding.PULMONARY_NODULE.bit());
        assertEquals(15, PhantomFinding.AORTIC_ANEURYSM.bit());
        assertEquals(Organ.GALLBLADDER, PhantomFinding.CHOLELITHIASIS.organ());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PhantomFinding.fromId("lung_cancer"));
        assertTrue(e.getMessage().contains("lung_cancer"));
        assertTrue(e.getMessage().contains("pulmonary_nodule") && e.getMessage().contains("aortic_aneurysm"));
    }

    @Test
    void organLabelsAreStable() {
        int[] expected = {0, 1, 2, 3, 4, 5, 6, 7};
        Organ[] organs = {Organ.BACKGROUND, Organ.LUNG, Organ.LIVER, Organ.GALLBLADDER, Organ.KIDNEY, Organ.PANCREAS,
            Organ.SPLEEN, Organ.AORTA};
        for (int i = 0; i < organs.length; i++) {
            assertEquals(expected[i], organs[i].label());
        }
    }
}
