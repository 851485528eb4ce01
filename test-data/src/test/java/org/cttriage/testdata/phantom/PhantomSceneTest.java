package org.cttriage.testdata.phantom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class PhantomSceneTest {

    private static PhantomSpec spec() {
        return PhantomGeneratorTest.small(77).withFindings(EnumSet.of(PhantomFinding.LIVER_CYST,
                PhantomFinding.NEPHROLITHIASIS, PhantomFinding.PULMONARY_NODULE));
    }

    /** Slice z of a phantom (superior first) is plane nz-1-z of a region (inferior first). */
    private static void flipInto(Object src, Object dst, int plane, int nz) {
        for (int z = 0; z < nz; z++) {
            System.arraycopy(src, z * plane, dst, (nz - 1 - z) * plane, plane);
        }
    }

    @Test
    void regionOnTheWholeLatticeWithTheSameSeedsIsTheWholePhantom() {
        PhantomSpec spec = spec();
        Phantom whole = new PhantomGenerator().generate(spec, null);
        PhantomScene scene = PhantomScene.plan(spec);
        int nx = spec.columns(), ny = spec.rows(), nz = spec.slices(), plane = nx * ny;
        double[] bottom = whole.sliceOrigin(nz - 1);
        double sigma = scene.planState().noiseSigma;
        PhantomRegion r = scene.render(bottom, new double[] {spec.pixelSpacingMm(), spec.pixelSpacingMm(),
            spec.sliceSpacingMm()}, new int[] {nx, ny, nz}, sigma,
                k -> Rng.mix(spec.seed() ^ 0x5DEECE66DL, 100_000L + (nz - 1 - k)));
        short[] hu = new short[plane * nz];
        byte[] labels = new byte[plane * nz];
        short[] mask = new short[plane * nz];
        flipInto(whole.hu(), hu, plane, nz);
        flipInto(whole.organLabels(), labels, plane, nz);
        flipInto(whole.findingMask(), mask, plane, nz);
        assertArrayEquals(hu, r.hu());
        assertArrayEquals(labels, r.organLabels());
        assertArrayEquals(mask, r.findingMask());
        assertEquals(whole.truth(), scene.truth());
    }

    @Test
    void aSubRegionSeesTheSameAnatomyAsTheWholePhantom() {
        PhantomSpec spec = spec();
        Phantom whole = new PhantomGenerator().generate(spec, null);
        PhantomScene scene = PhantomScene.plan(spec);
        int nx = spec.columns(), ny = spec.rows(), nz = spec.slices();
        double ps = spec.pixelSpacingMm();
        // Columns 10..39, rows 20..49, phantom slices 30..9 (region planes go upwards).
        double[] origin = whole.sliceOrigin(30);
        origin[0] += 10 * ps;
        origin[1] += 20 * ps;
        PhantomRegion r = scene.render(origin, new double[] {ps, ps, spec.sliceSpacingMm()}, new int[] {30, 30, 22}, 3);
        int organVoxels = 0;
        for (int k = 0; k < 22; k++) {
            for (int j = 0; j < 30; j++) {
                for (int i = 0; i < 30; i++) {
                    int w = whole.index(10 + i, 20 + j, 30 - k);
                    int v = (k * 30 + j) * 30 + i;
                    assertEquals(whole.organLabels()[w], r.organLabels()[v]);
                    assertEquals(whole.findingMask()[w], r.findingMask()[v]);
                    organVoxels += r.organLabels()[v] != 0 ? 1 : 0;
                }
            }
        }
        assertTrue(organVoxels > 1000, "the region must hold organs for this test to mean something: " + organVoxels);
        assertEquals(nx, whole.spec().columns());
        assertEquals(ny, whole.spec().rows());
        assertEquals(nz, whole.spec().slices());
    }

    @Test
    void noiseStreamsDifferAndRepeat() {
        PhantomScene scene = PhantomScene.plan(spec());
        double[] o = {-40, -40, -100};
        double[] s = {2, 2, 2};
        int[] n = {24, 24, 8};
        PhantomRegion a = scene.render(o, s, n, 1);
        assertArrayEquals(a.hu(), scene.render(o, s, n, 1).hu());
        assertNotEquals(java.util.Arrays.hashCode(a.hu()), java.util.Arrays.hashCode(scene.render(o, s, n, 2).hu()));
        assertArrayEquals(a.organLabels(), scene.render(o, s, n, 2).organLabels());
    }

    @Test
    void rejectsNonSquarePixels() {
        PhantomScene scene = PhantomScene.plan(spec());
        assertThrows(IllegalArgumentException.class,
                () -> scene.render(new double[3], new double[] {1, 2, 1}, new int[] {4, 4, 4}, 0));
    }
}
