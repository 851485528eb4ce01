package org.cttriage.testdata.phantom;

import static org.cttriage.testdata.phantom.PhantomGeneratorTest.count;
import static org.cttriage.testdata.phantom.PhantomGeneratorTest.maskCount;
import static org.cttriage.testdata.phantom.PhantomGeneratorTest.meanHu;
import static org.cttriage.testdata.phantom.PhantomGeneratorTest.truthOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Each finding, inserted alone, must set its mask bit, produce truth and move attenuation the
 * expected way. Comparing against the same seed without the finding isolates the lesion: anatomy
 * and noise streams do not depend on the finding set.
 */
class PhantomFindingTest {
    private static final long[] SEEDS = {42, 7};
    private final PhantomGenerator gen = new PhantomGenerator();

    private static ContrastPhase phaseFor(PhantomFinding f) {
        return switch (f) {
            case LIVER_CYST, RENAL_CYST, HYDRONEPHROSIS, PANCREATIC_MASS -> ContrastPhase.PORTAL_VENOUS;
            default -> ContrastPhase.NONE;
        };
    }

    @TestFactory
    Stream<DynamicTest> eachFindingIsInsertedAndVisible() {
        return Arrays.stream(PhantomFinding.values()).flatMap(f -> Arrays.stream(SEEDS).mapToObj(seed ->
                DynamicTest.dynamicTest(f.id() + " seed " + seed, () -> check(f, seed))));
    }

    private void check(PhantomFinding f, long seed) {
        PhantomSpec def = PhantomSpec.defaults(seed);
        // Lesions that may bulge into fat are compared on single-sample slices, where a voxel that
        // was parenchyma in the baseline has no fat partial volume the lesion could brighten.
        boolean thin = f == PhantomFinding.PANCREATIC_MASS || f == PhantomFinding.RENAL_CYST || f == PhantomFinding.HYDRONEPHROSIS;
        PhantomSpec base = new PhantomSpec(seed, def.columns(), def.rows(), def.slices(), def.pixelSpacingMm(), def.sliceSpacingMm(),
                thin ? 0 : def.sliceThicknessMm(), phaseFor(f), def.findings(), false);
        Phantom without = gen.generate(base);
        Phantom with = gen.generate(base.withFindings(EnumSet.of(f)));
        List<FindingTruth> truth = truthOf(with, f);
        assertFalse(truth.isEmpty(), "truth entry");
        assertEquals(truth.size(), with.truth().size(), "only the requested finding");
        for (FindingTruth t : truth) {
            assertEquals(f.organ(), t.organ());
            assertTrue(t.sizeMm() > 0);
            assertFalse(t.description().isBlank());
            assertEquals(3, t.centreLpsMm().length);
        }
        assertTrue(maskCount(with, f) > 0, "mask bit set somewhere");
        for (short m : with.findingMask()) {
            assertEquals(0, (m & 0xFFFF) & ~(1 << f.bit()), "no other bits");
        }
        double diff = maskMeanDiff(with, without, f);
        double inMask = maskMean(with, f);
        switch (f) {
            case PULMONARY_NODULE, CONSOLIDATION, CHOLELITHIASIS, NEPHROLITHIASIS, AORTIC_CALCIFICATION ->
                    assertTrue(diff > 0, "denser than background, diff " + diff);
            case EMPHYSEMA -> assertTrue(diff < 0, "lower attenuation, diff " + diff);
            case PLEURAL_EFFUSION -> {
                assertTrue(diff > 300, "fluid replaces lung, diff " + diff);
                PhantomGeneratorTest.assertBetween(inMask, -40, 50, "effusion");
            }
            case LIVER_CYST -> assertTrue(inMask < organMeanOutsideMask(with, Organ.LIVER, f) - 30, "cyst " + inMask);
            case LIVER_MASS -> assertTrue(Math.abs(diff) > 5, "mass differs from liver, diff " + diff);
            case RENAL_CYST, HYDRONEPHROSIS -> {
                double d = diffWhereBaselineWas(with, without, f, Organ.KIDNEY);
                assertTrue(d < -30, "fluid darker than enhancing kidney, diff " + d);
            }
            case PANCREATIC_MASS -> {
                double d = diffWhereBaselineWas(with, without, f, Organ.PANCREAS);
                assertTrue(d < 0, "hypoattenuating vs pancreas, diff " + d);
            }
            case HEPATIC_STEATOSIS -> {
                assertTrue(meanHu(with, Organ.LIVER) < meanHu(without, Organ.LIVER) - 5);
                // Unenhanced criterion: liver < spleen - 10 (spleen is 45..50 HU here) or liver < 40.
                assertTrue(truth.get(0).meanHu() < 40, "steatotic liver " + truth.get(0).meanHu());
                assertEquals(count(with, Organ.LIVER), maskCount(with, f), "whole liver marked");
            }
            case HEPATOMEGALY -> {
                assertTrue(count(with, Organ.LIVER) > count(without, Organ.LIVER));
                assertTrue(truth.get(0).sizeMm() >= 165);
            }
            case SPLENOMEGALY -> {
                assertTrue(count(with, Organ.SPLEEN) > count(without, Organ.SPLEEN));
                assertTrue(truth.get(0).sizeMm() >= 125);
            }
            case AORTIC_ANEURYSM -> {
                assertTrue(count(with, Organ.AORTA) > count(without, Organ.AORTA));
                assertTrue(truth.get(0).sizeMm() >= 30 && truth.get(0).sizeMm() <= 60);
            }
            default -> throw new AssertionError("unhandled " + f);
        }
    }

    @Test
    void allFindingsTogether() {
        PhantomSpec spec = PhantomSpec.defaults(3).withFindings(EnumSet.allOf(PhantomFinding.class));
        Phantom p = gen.generate(spec);
        for (PhantomFinding f : PhantomFinding.values()) {
            assertFalse(truthOf(p, f).isEmpty(), f.id());
            assertTrue(maskCount(p, f) > 0, f.id());
        }
    }

    @Test
    void tinyKidneyStoneIsPossibleAndMarked() {
        boolean sawSmall = false;
        for (long s = 0; s < 40 && !sawSmall; s++) {
            Phantom p = gen.generate(PhantomGeneratorTest.small(s).withFindings(EnumSet.of(PhantomFinding.NEPHROLITHIASIS)));
            for (FindingTruth t : truthOf(p, PhantomFinding.NEPHROLITHIASIS)) {
                if (t.sizeMm() <= 3.5) {
                    sawSmall = true;
                    assertTrue(maskCount(p, PhantomFinding.NEPHROLITHIASIS) > 0);
                }
            }
        }
        assertTrue(sawSmall, "a stone of about 3 mm should occur");
    }

    private static double maskMean(Phantom p, PhantomFinding f) {
        double s = 0;
        long n = 0;
        for (int i = 0; i < p.hu().length; i++) {
            if ((p.findingMask()[i] & (1 << f.bit())) != 0) {
                s += p.hu()[i];
                n++;
            }
        }
        return s / n;
    }

    private static double maskMeanDiff(Phantom with, Phantom without, PhantomFinding f) {
        double s = 0;
        long n = 0;
        for (int i = 0; i < with.hu().length; i++) {
            if ((with.findingMask()[i] & (1 << f.bit())) != 0) {
                s += with.hu()[i] - without.hu()[i];
                n++;
            }
        }
        return s / n;
    }

    /** Lesion minus baseline over mask voxels that were the given organ without the finding. */
    private static double diffWhereBaselineWas(Phantom with, Phantom without, PhantomFinding f, Organ o) {
        double s = 0;
        long n = 0;
        for (int i = 0; i < with.hu().length; i++) {
            if ((with.findingMask()[i] & (1 << f.bit())) != 0 && without.organLabels()[i] == o.label()) {
                s += with.hu()[i] - without.hu()[i];
                n++;
            }
        }
        assertTrue(n > 0, "lesion overlaps " + o);
        return s / n;
    }

    private static double organMeanOutsideMask(Phantom p, Organ o, PhantomFinding f) {
        double s = 0;
        long n = 0;
        for (int i = 0; i < p.hu().length; i++) {
            if (p.organLabels()[i] == o.label() && (p.findingMask()[i] & (1 << f.bit())) == 0) {
                s += p.hu()[i];
                n++;
            }
        }
        return s / n;
    }
}
