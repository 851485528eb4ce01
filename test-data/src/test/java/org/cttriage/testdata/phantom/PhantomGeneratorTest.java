package org.cttriage.testdata.phantom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class PhantomGeneratorTest {
    private final PhantomGenerator gen = new PhantomGenerator();

    /** Small and fast, but with the same 400 mm field of view and 360 mm coverage as the defaults. */
    static PhantomSpec small(long seed) {
        return new PhantomSpec(seed, 64, 64, 48, 400.0 / 64, 7.5, 7.5, ContrastPhase.NONE, Set.of(), false);
    }

    private Phantom generate(PhantomSpec spec, int threads) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            return gen.generate(spec, pool);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void assertSame(Phantom a, Phantom b) {
        assertArrayEquals(a.hu(), b.hu());
        assertArrayEquals(a.organLabels(), b.organLabels());
        assertArrayEquals(a.findingMask(), b.findingMask());
        assertEquals(a.truth(), b.truth());
        assertEquals(a.habitus(), b.habitus());
    }

    @Test
    void sameSpecGivesIdenticalArrays() {
        PhantomSpec spec = small(42).withFindings(EnumSet.of(PhantomFinding.PULMONARY_NODULE, PhantomFinding.RENAL_CYST));
        assertSame(gen.generate(spec), gen.generate(spec));
    }

    @Test
    void threadCountDoesNotChangeOutput() {
        PhantomSpec spec = small(9).withFindings(EnumSet.of(PhantomFinding.AORTIC_CALCIFICATION, PhantomFinding.LIVER_MASS));
        Phantom one = generate(spec, 1);
        Phantom two = generate(spec, 2);
        Phantom sequential = gen.generate(spec, null);
        assertSame(one, two);
        assertSame(one, sequential);
    }

    @Test
    void differentSeedsDiffer() {
        Phantom a = gen.generate(small(1));
        Phantom b = gen.generate(small(2));
        assertFalse(Arrays.equals(a.hu(), b.hu()));
        assertFalse(Arrays.equals(a.organLabels(), b.organLabels()));
    }

    @Test
    void arraysHaveExpectedSizeAndRanges() {
        PhantomSpec spec = small(3);
        Phantom p = gen.generate(spec);
        int n = spec.columns() * spec.rows() * spec.slices();
        assertEquals(n, p.hu().length);
        assertEquals(n, p.organLabels().length);
        assertEquals(n, p.findingMask().length);
        for (short v : p.hu()) {
            assertTrue(v >= -1024 && v <= 3071);
        }
        for (byte l : p.organLabels()) {
            assertTrue(l >= 0 && l <= 7);
        }
        for (short m : p.findingMask()) {
            assertEquals(0, m);
        }
        assertTrue(p.truth().isEmpty());
        // Air surrounds the patient.
        assertTrue(p.hu()[p.index(0, 0, spec.slices() / 2)] < -900);
    }

    @Test
    void geometryFollowsDicomConventions() {
        PhantomSpec spec = small(4);
        Phantom p = gen.generate(spec);
        double[] o0 = p.sliceOrigin(0);
        double[] o1 = p.sliceOrigin(1);
        assertEquals(-(spec.columns() - 1) / 2.0 * spec.pixelSpacingMm(), o0[0], 1e-9);
        assertEquals(-(spec.rows() - 1) / 2.0 * spec.pixelSpacingMm(), o0[1], 1e-9);
        assertEquals(o0[2] - spec.sliceSpacingMm(), o1[2], 1e-9);
        assertThrows(IndexOutOfBoundsException.class, () -> p.sliceOrigin(spec.slices()));
        // Lung at the top of the stack, kidneys near the bottom: slice 0 is superior.
        int[] lungFirst = firstAndLastSlice(p, Organ.LUNG);
        int[] kidneyFirst = firstAndLastSlice(p, Organ.KIDNEY);
        assertTrue(lungFirst[0] < kidneyFirst[0]);
        // Liver (patient right) lies at lower x than spleen (patient left); LPS +x is left.
        assertTrue(meanX(p, Organ.LIVER) < meanX(p, Organ.SPLEEN));
        // Aorta is anterior to the spinal canal, lungs are not at the very posterior edge; check aorta y < body centre + ...
        assertTrue(meanY(p, Organ.AORTA) < meanY(p, Organ.KIDNEY) + 20);
    }

    @Test
    void habitusIsPlausible() {
        for (long s = 0; s < 20; s++) {
            PatientHabitus h = gen.generate(new PhantomSpec(s, 16, 16, 1, 25, 1, 1, ContrastPhase.NONE, Set.of(), false)).habitus();
            assertTrue(h.sex() == 'M' || h.sex() == 'F');
            assertTrue(h.ageYears() >= 18 && h.ageYears() <= 95);
            assertTrue(h.bmi() > 16 && h.bmi() < 42, "bmi " + h.bmi());
            assertTrue(h.bodyWidthMm() > 220 && h.bodyWidthMm() < 400, "width " + h.bodyWidthMm());
            assertTrue(h.bodyDepthMm() > 150 && h.bodyDepthMm() < h.bodyWidthMm(), "depth " + h.bodyDepthMm());
        }
    }

    @Test
    void everyOrganPresentWithPlausibleUnenhancedAttenuation() {
        Phantom p = gen.generate(PhantomSpec.defaults(2024));
        for (Organ o : Organ.values()) {
            assertTrue(count(p, o) > 0, o + " missing");
        }
        assertTrue(meanHu(p, Organ.LUNG) < -700, "lung " + meanHu(p, Organ.LUNG));
        assertBetween(meanHu(p, Organ.LIVER), 40, 80, "liver");
        assertBetween(meanHu(p, Organ.SPLEEN), 30, 65, "spleen");
        assertBetween(meanHu(p, Organ.KIDNEY), 10, 50, "kidney");
        assertBetween(meanHu(p, Organ.PANCREAS), 10, 60, "pancreas");
        assertBetween(meanHu(p, Organ.GALLBLADDER), -20, 40, "gallbladder");
        assertBetween(meanHu(p, Organ.AORTA), 20, 65, "aorta");
    }

    @Test
    void contrastPhasesEnhanceTheRightOrgans() {
        PhantomSpec base = PhantomSpec.defaults(77);
        Phantom none = gen.generate(base);
        Phantom art = gen.generate(base.withPhase(ContrastPhase.ARTERIAL));
        Phantom pv = gen.generate(base.withPhase(ContrastPhase.PORTAL_VENOUS));
        assertArrayEquals(none.organLabels(), art.organLabels(), "phase must not move anatomy");
        assertTrue(meanHu(art, Organ.AORTA) > 150, "arterial aorta " + meanHu(art, Organ.AORTA));
        assertTrue(meanHu(art, Organ.KIDNEY) > meanHu(none, Organ.KIDNEY) + 50);
        assertBetween(meanHu(pv, Organ.LIVER), 85, 130, "portal venous liver");
        assertBetween(meanHu(pv, Organ.SPLEEN), 90, 130, "portal venous spleen");
        assertTrue(meanHu(pv, Organ.KIDNEY) > 110, "portal venous kidney " + meanHu(pv, Organ.KIDNEY));
        assertTrue(meanHu(pv, Organ.AORTA) > 120, "portal venous aorta " + meanHu(pv, Organ.AORTA));
        assertBetween(meanHu(pv, Organ.PANCREAS), 65, 120, "portal venous pancreas");
        assertBetween(meanHu(pv, Organ.GALLBLADDER), -20, 40, "bile does not enhance");
        assertTrue(meanHu(pv, Organ.LUNG) < -700);
    }

    @Test
    void randomFindingsAreReproducible() {
        int withFindings = 0;
        for (long s = 0; s < 6; s++) {
            PhantomSpec spec = new PhantomSpec(s, 64, 64, 48, 400.0 / 64, 7.5, 7.5, ContrastPhase.NONE, Set.of(), true);
            Phantom a = gen.generate(spec);
            Phantom b = gen.generate(spec);
            assertSame(a, b);
            if (!a.truth().isEmpty()) {
                withFindings++;
            }
        }
        assertTrue(withFindings > 0);
    }

    @Test
    void findingOutsideCoverageIsRejectedNamingFindingAndOrgan() {
        // Three 1 mm slices around the scan centre (lower chest) cannot show the kidneys.
        PhantomSpec spec = new PhantomSpec(5, 64, 64, 3, 400.0 / 64, 1, 1, ContrastPhase.NONE,
                Set.of(PhantomFinding.RENAL_CYST), false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gen.generate(spec));
        assertTrue(e.getMessage().contains("renal_cyst"), e.getMessage());
        assertTrue(e.getMessage().contains("KIDNEY"), e.getMessage());
    }

    @Test
    void findingsAreInsertedIntoNarrowCoverageWherePossible() {
        PhantomSpec spec = new PhantomSpec(5, 64, 64, 3, 400.0 / 64, 1, 1, ContrastPhase.NONE,
                Set.of(PhantomFinding.PULMONARY_NODULE, PhantomFinding.AORTIC_CALCIFICATION), false);
        Phantom p = gen.generate(spec);
        assertTrue(maskCount(p, PhantomFinding.PULMONARY_NODULE) > 0);
        assertTrue(maskCount(p, PhantomFinding.AORTIC_CALCIFICATION) > 0);
    }

    @Test
    void thinAndThickSlicesDiffer() {
        PhantomSpec thin = new PhantomSpec(8, 64, 64, 48, 400.0 / 64, 7.5, 1, ContrastPhase.NONE, Set.of(), false);
        PhantomSpec thick = new PhantomSpec(8, 64, 64, 48, 400.0 / 64, 7.5, 7.5, ContrastPhase.NONE, Set.of(), false);
        Phantom a = gen.generate(thin);
        Phantom b = gen.generate(thick);
        assertArrayEquals(a.organLabels(), b.organLabels(), "labels describe voxel centres");
        assertFalse(Arrays.equals(a.hu(), b.hu()));
        assertTrue(noise(a) > noise(b), "thin slices are noisier");
    }

    // ---------------------------------------------------------------- helpers shared with FindingTest

    static void assertBetween(double v, double lo, double hi, String what) {
        assertTrue(v >= lo && v <= hi, what + " mean " + v + " outside [" + lo + ", " + hi + "]");
    }

    static long count(Phantom p, Organ o) {
        long n = 0;
        for (byte l : p.organLabels()) {
            if (l == o.label()) {
                n++;
            }
        }
        return n;
    }

    static double meanHu(Phantom p, Organ o) {
        double s = 0;
        long n = 0;
        byte[] l = p.organLabels();
        short[] hu = p.hu();
        for (int i = 0; i < l.length; i++) {
            if (l[i] == o.label()) {
                s += hu[i];
                n++;
            }
        }
        return s / n;
    }

    static long maskCount(Phantom p, PhantomFinding f) {
        long n = 0;
        for (short m : p.findingMask()) {
            if ((m & (1 << f.bit())) != 0) {
                n++;
            }
        }
        return n;
    }

    private static double meanX(Phantom p, Organ o) {
        return meanCoord(p, o, 0);
    }

    private static double meanY(Phantom p, Organ o) {
        return meanCoord(p, o, 1);
    }

    private static double meanCoord(Phantom p, Organ o, int axis) {
        PhantomSpec s = p.spec();
        double sum = 0;
        long n = 0;
        for (int z = 0; z < s.slices(); z++) {
            for (int y = 0; y < s.rows(); y++) {
                for (int x = 0; x < s.columns(); x++) {
                    if (p.organLabels()[p.index(x, y, z)] == o.label()) {
                        sum += axis == 0 ? x : y;
                        n++;
                    }
                }
            }
        }
        return sum / n * s.pixelSpacingMm();
    }

    private static int[] firstAndLastSlice(Phantom p, Organ o) {
        PhantomSpec s = p.spec();
        int plane = s.columns() * s.rows();
        int first = -1, last = -1;
        for (int i = 0; i < p.organLabels().length; i++) {
            if (p.organLabels()[i] == o.label()) {
                int z = i / plane;
                if (first < 0) {
                    first = z;
                }
                last = z;
            }
        }
        return new int[] {first, last};
    }

    /** Mean absolute difference of horizontally adjacent air voxels: a crude noise estimate. */
    private static double noise(Phantom p) {
        PhantomSpec s = p.spec();
        double sum = 0;
        long n = 0;
        short[] hu = p.hu();
        for (int z = 0; z < s.slices(); z++) {
            for (int y = 0; y < s.rows(); y++) {
                for (int x = 0; x + 1 < s.columns(); x++) {
                    int i = p.index(x, y, z);
                    if (p.organLabels()[i] == Organ.LIVER.label() && p.organLabels()[i + 1] == Organ.LIVER.label()) {
                        sum += Math.abs(hu[i] - hu[i + 1]);
                        n++;
                    }
                }
            }
        }
        return sum / Math.max(1, n);
    }

    static List<FindingTruth> truthOf(Phantom p, PhantomFinding f) {
        return p.truth().stream().filter(t -> t.finding() == f).toList();
    }
}
