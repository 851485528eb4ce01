package org.cttriage.core.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The engine's Hessian dot filter against its reference, models/ctglip-ref/experiments/dot_filter.py: the
 * fixture (dot_filter.py --fixture) holds what the reference computes on an analytic crop (lung with a
 * ripple, a 7.8 mm sphere, a tube along z), and the engine must compute the same smoothing, dot values,
 * region, score and point.
 */
class DotFiltersTest {
    static final Path PARITY = Path.of("src", "test", "resources", "dot-filter-parity.json");
    static final int[] SIZE = {24, 20, 28};

    /** dot_filter.analytic_crop: [z, y, x] flattened; the HU computed in double and stored as float, as numpy does. */
    static float[][] analyticCrop() {
        int n = SIZE[0] * SIZE[1] * SIZE[2];
        float[] hu = new float[n];
        float[] fraction = new float[n];
        for (int z = 0, v = 0; z < SIZE[2]; z++) {
            for (int y = 0; y < SIZE[1]; y++) {
                for (int x = 0; x < SIZE[0]; x++, v++) {
                    double h = -850 + 30 * Math.sin(0.7 * x + 0.3 * y + 0.5 * z);
                    boolean sphere = sq(x - 12.3) + sq(y - 9.6) + sq(z - 14.2) <= sq(2.6);
                    boolean tube = sq(x - 5.0) + sq(y - 5.0) <= sq(1.3);
                    hu[v] = (float) (sphere ? 0.0 : tube ? 40.0 : h);
                    fraction[v] = x >= 2 && x <= 21 ? 1f : 0f;
                }
            }
        }
        return new float[][] {hu, fraction};
    }

    private static double sq(double a) {
        return a * a;
    }

    static DotFilters.Filter filter(double... sigmasMm) {
        OrganCropSpec.OrganGrid grid = new OrganCropSpec.OrganGrid("lung", 1, true, SIZE, new double[] {1.5, 1.5, 1.5}, 6);
        return new DotFilters.Filter("lung", List.of("pulmonary_nodule"), grid, sigmasMm, -1000, -400, -750, 2, 60, null);
    }

    private static int index(JsonNode zyx) {
        return (zyx.get(0).asInt() * SIZE[1] + zyx.get(1).asInt()) * SIZE[0] + zyx.get(2).asInt();
    }

    private static List<Map.Entry<String, JsonNode>> fields(JsonNode n) {
        List<Map.Entry<String, JsonNode>> out = new java.util.ArrayList<>();
        n.fields().forEachRemaining(out::add);
        return out;
    }

    private static int index(String zyx) throws Exception {
        return index(new ObjectMapper().readTree(zyx));
    }

    @Test
    void smoothsScoresAndLocatesAsTheReference() throws Exception {
        JsonNode p = new ObjectMapper().readTree(PARITY.toFile());
        float[][] crop = analyticCrop();
        float[] hu = crop[0];
        boolean[] region = DotFilters.region(hu, crop[1], SIZE, 2, -750);
        int count = 0;
        for (boolean b : region) {
            count += b ? 1 : 0;
        }
        assertThat(count).as("candidate voxels").isEqualTo(p.path("regionVoxels").asInt());
        float[] clipped = new float[hu.length];
        for (int v = 0; v < hu.length; v++) {
            clipped[v] = Math.max(-1000f, Math.min(-400f, hu[v]));
        }
        for (JsonNode scale : p.path("perScale")) {
            double sigma = scale.path("sigmaMm").asDouble();
            float[] g = DotFilters.smooth(clipped, SIZE, sigma / 1.5);
            for (Map.Entry<String, JsonNode> e : fields(scale.path("smoothedAt"))) {
                assertThat((double) g[index(e.getKey())]).as("smoothed at %s, sigma %s mm", e.getKey(), sigma)
                        .isCloseTo(e.getValue().asDouble(), within(1e-3));
            }
            float[] d = DotFilters.dot(hu, DotFilters.cells(region), SIZE, filter(sigma));
            for (Map.Entry<String, JsonNode> e : fields(scale.path("dotAt"))) {
                double expected = e.getValue().asDouble();
                // both smooth into float32: the second differences of values near -850 HU cancel to about 1e-3
                assertThat((double) d[index(e.getKey())]).as("dot at %s, sigma %s mm", e.getKey(), sigma)
                        .isCloseTo(expected, within(2e-3 + 1e-3 * expected));
            }
            int at = 0;
            for (int v = 0; v < d.length; v++) {
                at = d[v] > d[at] ? v : at;
            }
            assertThat(at).as("argmax, sigma %s mm", sigma).isEqualTo(index(scale.path("argmaxZyx")));
            assertThat((double) d[at]).isCloseTo(scale.path("max").asDouble(), within(1e-3 * scale.path("max").asDouble()));
        }
        OrganCrops.CropGrid grid = new OrganCrops.CropGrid(filter().grid(), new double[] {-10, 20, -300}, true);
        DotFilters.Filter all = filter(1.5, 2.5, 4.0, 6.0);
        Map<String, LesionDetectors.Lesion> lesions = DotFilters.detect(null, all, hu, crop[1], grid, null);
        double d = p.path("score").asDouble();
        assertThat(lesions).containsOnlyKeys("pulmonary_nodule");
        LesionDetectors.Lesion l = lesions.get("pulmonary_nodule");
        assertThat(l.probability()).isCloseTo(d / (d + 60), within(1e-4));
        assertThat(l.logit()).as("ln(d / referenceDot)").isCloseTo(Math.log(d / 60), within(1e-3));
        JsonNode zyx = p.path("argmaxZyx");
        assertThat(l.pointLps()).containsExactly(grid.positionOf(zyx.get(2).asInt(), zyx.get(1).asInt(), zyx.get(0).asInt()));
        // the sphere, not the tube: the point is on the 7.8 mm sphere around x 12.3, y 9.6, z 14.2
        assertThat(sq(zyx.get(2).asInt() - 12.3) + sq(zyx.get(1).asInt() - 9.6) + sq(zyx.get(0).asInt() - 14.2))
                .isLessThan(sq(2.6));
    }

    @Test
    void proposesTheCandidatesAndCutsThePatchesAsTheReference() throws Exception {
        JsonNode p = new ObjectMapper().readTree(PARITY.toFile()).path("secondLook");
        float[][] crop = analyticCrop();
        boolean[] region = DotFilters.region(crop[0], crop[1], SIZE, 2, -750);
        float[] d = DotFilters.dot(crop[0], DotFilters.cells(region), SIZE, filter(1.5, 2.5, 4.0, 6.0));
        int[] peaks = DotFilters.peaks(d, DotFilters.cells(region), SIZE, p.path("peakWindowVoxels").asInt(), p.path("k").asInt());
        JsonNode expected = p.path("candidatesZyx");
        assertThat(peaks).hasSize(expected.size());
        for (int i = 0; i < peaks.length; i++) {
            assertThat(peaks[i]).as("candidate %d", i).isEqualTo(index(expected.get(i)));
            assertThat((double) d[peaks[i]]).isCloseTo(p.path("values").get(i).asDouble(), within(1e-3));
        }
        int n = p.path("patchVoxels").asInt();
        float[] patches = DotFilters.patches(crop[0], SIZE, peaks, n, p.path("clipHu").get(0).asDouble(),
                p.path("clipHu").get(1).asDouble());
        assertThat(patches).hasSize(peaks.length * n * n * n);
        for (Map.Entry<String, JsonNode> e : fields(p.path("firstPatchAt"))) {
            JsonNode zyx = new ObjectMapper().readTree(e.getKey());
            int at = (zyx.get(0).asInt() * n + zyx.get(1).asInt()) * n + zyx.get(2).asInt();
            assertThat((double) patches[at]).as("first patch at %s", e.getKey())
                    .isCloseTo(e.getValue().asDouble(), within(1e-5));
        }
        // the first candidate is the sphere's, and its patch has the sphere (0 HU) at its centre voxel
        assertThat(sq(expected.get(0).get(2).asInt() - 12.3) + sq(expected.get(0).get(1).asInt() - 9.6)
                + sq(expected.get(0).get(0).asInt() - 14.2)).isLessThan(sq(2.6));
        assertThat(patches[(8 * n + 8) * n + 8]).isCloseTo((float) (1000.0 / 600 - 1), within(1e-6f));
    }

    @Test
    void aTubeIsNoBlob() {
        float[][] crop = analyticCrop();
        boolean[] region = DotFilters.region(crop[0], crop[1], SIZE, 2, -750);
        float[] d = DotFilters.dot(crop[0], DotFilters.cells(region), SIZE, filter(1.5, 2.5, 4.0, 6.0));
        double tube = 0;
        double sphere = 0;
        for (int z = 0, v = 0; z < SIZE[2]; z++) {
            for (int y = 0; y < SIZE[1]; y++) {
                for (int x = 0; x < SIZE[0]; x++, v++) {
                    if (z > 4 && z < SIZE[2] - 5 && sq(x - 5.0) + sq(y - 5.0) <= sq(1.3)) {
                        tube = Math.max(tube, d[v]);
                    }
                    sphere = Math.max(sphere, sq(x - 12.3) + sq(y - 9.6) + sq(z - 14.2) <= sq(2.6) ? d[v] : 0);
                }
            }
        }
        assertThat(tube).as("the vessel's largest dot value away from the crop's faces").isLessThan(sphere / 10);
    }

    @Test
    void nothingInTheRegionScoresZeroWithoutAPoint() throws Exception {
        float[][] crop = analyticCrop();
        java.util.Arrays.fill(crop[1], 0f);
        OrganCrops.CropGrid grid = new OrganCrops.CropGrid(filter().grid(), new double[] {0, 0, 0}, true);
        LesionDetectors.Lesion l = DotFilters.detect(null, filter(2.5), crop[0], crop[1], grid, null).get("pulmonary_nodule");
        assertThat(l.probability()).isZero();
        assertThat(l.pointLps()).isNull();
    }

    @Test
    void eigenvaluesAscendAndMirroringIsScipysReflect() {
        assertThat(DotFilters.eigenvalues(2, 2, 5, 1, 0, 0)).containsExactly(new double[] {1, 3, 5}, within(1e-12));
        assertThat(DotFilters.eigenvalues(-3, 1, 2, 0, 0, 0)).containsExactly(-3, 1, 2);
        // a rotated diag(-4, -1, 2): the same eigenvalues
        double c = Math.cos(0.4);
        double s = Math.sin(0.4);
        double xx = -4 * c * c + -1 * s * s;
        double yy = -4 * s * s + -1 * c * c;
        double xy = (-4 + 1) * c * s;
        assertThat(DotFilters.eigenvalues(xx, yy, 2, xy, 0, 0)).containsExactly(new double[] {-4, -1, 2}, within(1e-12));
        int[] expected = {1, 0, 0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 0};
        for (int i = -2; i <= 10; i++) {
            assertThat(DotFilters.mirror(i, 5)).as("mirror(%d, 5)", i).isEqualTo(expected[i + 2]);
        }
        double[] k = DotFilters.kernel(2.5 / 1.5);
        assertThat(k).hasSize(2 * 7 + 1);
        assertThat(java.util.Arrays.stream(k).sum()).isCloseTo(1, within(1e-12));
    }

    @Test
    void smoothingABoxGivesTheWholeCropsValuesInIt() {
        float[] hu = analyticCrop()[0];
        // one face of the box on the crop's face (mirrored reads), the others inside
        int[] lo = {0, 4, 9};
        int[] hi = {17, 19, 20};
        for (double s : new double[] {1.0, 4.0}) {
            float[] whole = DotFilters.smooth(hu, SIZE, s);
            float[] box = DotFilters.smooth(hu, SIZE, s, lo, hi, null);
            boolean[] wanted = new boolean[hu.length];
            for (int v = 0; v < wanted.length; v += 3) {
                wanted[v] = true; // runs of one voxel and gaps
            }
            java.util.Arrays.fill(wanted, 2000, 2300, true); // and long runs
            float[] some = DotFilters.smooth(hu, SIZE, s, lo, hi, wanted);
            for (int z = 0, v = 0; z < SIZE[2]; z++) {
                for (int y = 0; y < SIZE[1]; y++) {
                    for (int x = 0; x < SIZE[0]; x++, v++) {
                        boolean inside = x >= lo[0] && x <= hi[0] && y >= lo[1] && y <= hi[1] && z >= lo[2] && z <= hi[2];
                        assertThat(box[v]).as("voxel %d %d %d, s %s", x, y, z, s).isEqualTo(inside ? whole[v] : 0f);
                        assertThat(some[v]).as("wanted voxel %d %d %d, s %s", x, y, z, s)
                                .isEqualTo(inside && wanted[v] ? whole[v] : 0f);
                    }
                }
            }
        }
    }

    @Test
    void smoothingAddsEachVoxelsTermsInTheKernelsOrder() {
        // the plain separable filter, voxel by voxel: the values the served package's calibration was made with,
        // which any faster way of taking the passes must give to the bit (the same terms added in the same order)
        java.util.Random random = new java.util.Random(12);
        int[] size = {37, 19, 23};
        float[] hu = new float[size[0] * size[1] * size[2]];
        for (int v = 0; v < hu.length; v++) {
            hu[v] = -1000 + 600 * random.nextFloat();
        }
        for (double s : new double[] {1.0, 2.5 / 1.5, 4.0}) {
            assertThat(DotFilters.smooth(hu, size, s)).as("s %s", s).containsExactly(plainSmoothing(hu, size, s));
        }
    }

    /** Gaussian smoothing pass by pass, each voxel's sum started at 0 and its taps added in order, stored as float. */
    private static float[] plainSmoothing(float[] hu, int[] size, double s) {
        double[] k = DotFilters.kernel(s);
        int r = k.length / 2;
        int[] stride = {1, size[0], size[0] * size[1]};
        float[] cur = hu;
        for (int axis = 0; axis < 3; axis++) {
            float[] next = new float[cur.length];
            for (int z = 0, v = 0; z < size[2]; z++) {
                for (int y = 0; y < size[1]; y++) {
                    for (int x = 0; x < size[0]; x++, v++) {
                        int[] at = {x, y, z};
                        double sum = 0;
                        for (int j = 0; j < k.length; j++) {
                            int m = DotFilters.mirror(at[axis] + j - r, size[axis]);
                            sum += k[j] * cur[v + (m - at[axis]) * stride[axis]];
                        }
                        next[v] = (float) sum;
                    }
                }
            }
            cur = next;
        }
        return cur;
    }

    @Test
    void dotValuesOfTheCellsAreTheWholeCropSmoothings() throws Exception {
        float[][] crop = analyticCrop();
        // a mask well inside the crop (the sphere in it), so that the smoothed box is smaller than the crop
        float[] mask = new float[crop[0].length];
        for (int z = 0, v = 0; z < SIZE[2]; z++) {
            for (int y = 0; y < SIZE[1]; y++) {
                for (int x = 0; x < SIZE[0]; x++, v++) {
                    mask[v] = x >= 8 && x <= 16 && y >= 5 && z >= 8 && z <= 20 ? 1f : 0f;
                }
            }
        }
        boolean[] region = DotFilters.region(crop[0], mask, SIZE, 2, -750);
        int[] cells = DotFilters.cells(region);
        assertThat(region[index("[14, 10, 12]")]).isTrue(); // the sphere's centre
        DotFilters.Filter f = filter(1.5, 2.5, 4.0, 6.0);
        float[] d = DotFilters.dot(crop[0], cells, SIZE, f);
        float[] clipped = new float[crop[0].length];
        for (int v = 0; v < clipped.length; v++) {
            clipped[v] = (float) Math.max(-1000, Math.min(-400, crop[0][v]));
        }
        float[] expected = new float[clipped.length];
        for (double sigma : f.sigmasMm()) {
            double s = sigma / 1.5;
            float[] g = DotFilters.smooth(clipped, SIZE, s);
            for (int v : cells) {
                expected[v] = Math.max(expected[v], (float) DotFilters.dotAt(g, SIZE, v, s * s));
            }
        }
        assertThat(d).containsExactly(expected);
        assertThat(d[index("[14, 10, 12]")]).isGreaterThan(0f);
    }

    /** A 1 mm volume, 80³ around the origin, of lung (-850 HU) with a 6 mm solid nodule (20 HU) at {@link #NODULE}. */
    private static final double[] NODULE = {2.3, -1.6, 3.1};

    private static org.cttriage.core.volume.Volume noduleVolume() {
        org.cttriage.core.volume.VolumeGeometry g = new org.cttriage.core.volume.VolumeGeometry(new int[] {80, 80, 80},
                new double[] {1, 1, 1}, new double[] {-40, -40, -40}, new double[] {1, 0, 0}, new double[] {0, 1, 0},
                new double[] {0, 0, 1}, 0);
        short[] hu = new short[(int) g.voxelCount()];
        for (int k = 0, v = 0; k < 80; k++) {
            for (int j = 0; j < 80; j++) {
                for (int i = 0; i < 80; i++, v++) {
                    double[] p = g.positionOf(i, j, k);
                    hu[v] = (short) (sq(p[0] - NODULE[0]) + sq(p[1] - NODULE[1]) + sq(p[2] - NODULE[2]) <= 9 ? 20 : -850);
                }
            }
        }
        return new org.cttriage.core.volume.Volume("1.2", "1.2.3", "", g, hu, List.of(), List.of());
    }

    private static OrganCrops crops(OrganCropSpec.OrganGrid grid) {
        return new OrganCrops(new OrganCropSpec(new int[] {2, 2, 1}, -1024,
                List.of(new PreprocessingSpec.Window("wide", -1024, 1024, PreprocessingSpec.Reduce.MEAN)), List.of(grid)));
    }

    @Test
    void finePatchesAreTheFineCropsPatchesOnTheBlobNearTheCoarseCandidate() {
        org.cttriage.core.volume.Volume volume = noduleVolume();
        // the filter's 3 mm crop of a box around the origin, and the 1.5 mm crop of the same box the network was
        // trained on: each 3 mm voxel is 2 x 2 x 2 of its voxels
        OrganCropSpec.OrganGrid coarse = new OrganCropSpec.OrganGrid("lung", 1, true, new int[] {12, 12, 12},
                new double[] {3, 3, 3}, 0);
        OrganCropSpec.OrganGrid fineGrid = new OrganCropSpec.OrganGrid("lung", 1, true, new int[] {24, 24, 24},
                new double[] {1.5, 1.5, 1.5}, 0);
        OrganCrops crops = crops(coarse);
        double[] box = {0, 0, 0};
        OrganCrops.CropGrid grid = crops.grid(coarse, box, box);
        OrganCrops.CropGrid fineCrop = crops.grid(fineGrid, box, box);
        float[] fineHu = crops.meanHu(volume, fineCrop);
        int[] size = coarse.gridSize();
        // a candidate voxel of the 3 mm crop 2-4 mm from the nodule's centre
        int[] c = new int[3];
        for (int a = 0; a < 3; a++) {
            c[a] = (int) Math.round((NODULE[a] - grid.originLps()[a]) / 3) + (a == 0 ? 1 : 0);
        }
        double[] at = grid.positionOf(c[0], c[1], c[2]);
        assertThat(Math.sqrt(sq(at[0] - NODULE[0]) + sq(at[1] - NODULE[1]) + sq(at[2] - NODULE[2]))).isBetween(2.0, 4.0);
        int candidate = (c[2] * size[1] + c[1]) * size[0] + c[0];
        for (double[] sigmas : new double[][] {{}, {1.5, 2.5}}) {
            for (int r : new int[] {0, 2}) {
                DotFilters.SecondLook look = new DotFilters.SecondLook(null, 32, 3, 16, -1000, 200, 1.5, r, sigmas);
                DotFilters.Filter f = new DotFilters.Filter("lung", List.of("pulmonary_nodule"), coarse,
                        new double[] {4, 6}, -1000, -400, -750, 2, 60, look);
                double[][] points = new double[1][];
                float[] x = DotFilters.finePatches(f, new DotFilters.Fine(crops, volume), grid, size,
                        new int[] {candidate}, points);
                checkFinePatch(x, points[0], fineCrop, fineHu, c, r, sigmas);
            }
        }
    }

    /**
     * One fine patch and its point against the fine crop's: the point is a voxel of the fine crop within r of the
     * candidate's 2 x 2 x 2, its patch holds exactly the fine crop's footprint means around it, and with refinement
     * scales it is where the fine crop's own dot filter at those scales is largest in that window.
     */
    private static void checkFinePatch(float[] x, double[] point, OrganCrops.CropGrid fineCrop, float[] fineHu, int[] c,
                                       int r, double[] sigmas) {
        int p = 16;
        int[] fine = fineCrop.organ().gridSize();
        int[] b = new int[3];
        for (int a = 0; a < 3; a++) {
            double index = (point[a] - fineCrop.originLps()[a]) / 1.5;
            b[a] = (int) Math.round(index);
            assertThat(index).isCloseTo(b[a], within(1e-9));
            assertThat(b[a]).as("refine %d, axis %d", r, a).isBetween(2 * c[a] - r, 2 * c[a] + 1 + r);
        }
        int v = (b[2] * fine[1] + b[1]) * fine[0] + b[0];
        assertThat(x).containsExactly(DotFilters.patches(fineHu, fine, new int[] {v}, p, -1000, 200));
        if (sigmas.length > 0) {
            List<Integer> window = new java.util.ArrayList<>();
            for (int z = 2 * c[2] - r; z <= 2 * c[2] + 1 + r; z++) {
                for (int y = 2 * c[1] - r; y <= 2 * c[1] + 1 + r; y++) {
                    for (int w = 2 * c[0] - r; w <= 2 * c[0] + 1 + r; w++) {
                        window.add((z * fine[1] + y) * fine[0] + w);
                    }
                }
            }
            DotFilters.Filter fineFilter = new DotFilters.Filter("lung", List.of("pulmonary_nodule"), fineCrop.organ(),
                    sigmas, -1000, -400, -750, 2, 60, null);
            float[] d = DotFilters.dot(fineHu, window.stream().mapToInt(Integer::intValue).toArray(), fine, fineFilter);
            int best = window.get(0);
            for (int u : window) {
                best = d[u] > d[best] ? u : best;
            }
            assertThat(d[best]).isGreaterThan(0f);
            assertThat(v).as("the fine filter's largest value in the window, refine %d", r).isEqualTo(best);
        }
        if (r == 2) { // moved onto the nodule: within a fine voxel of its centre
            assertThat(Math.sqrt(sq(point[0] - NODULE[0]) + sq(point[1] - NODULE[1]) + sq(point[2] - NODULE[2])))
                    .isLessThan(1.5);
            assertThat(x[((p / 2) * p + p / 2) * p + p / 2]).as("the patch's centre is the nodule's HU")
                    .isCloseTo((float) ((20 + 400) / 600.0), within(1e-3f));
        }
    }

    @Test
    void aSecondLookOnFinerPatchesIsDeclaredWithItsSpacing() throws Exception {
        ObjectMapper json = new ObjectMapper();
        OrganCropSpec.OrganGrid lung = new OrganCropSpec.OrganGrid("lung", 1, true, new int[] {56, 64, 96},
                new double[] {3, 3, 3}, 6);
        OrganCropSpec spec = new OrganCropSpec(new int[] {2, 2, 1}, -1024,
                List.of(new PreprocessingSpec.Window("wide", -1024, 1024, PreprocessingSpec.Reduce.MEAN)), List.of(lung));
        for (String bad : new String[] {"\"patchSpacingMm\": 0", "\"patchSpacingMm\": 1.5, \"refineVoxels\": -1",
            "\"refineVoxels\": 2"}) {
            JsonNode node = json.readTree("{\"lung\": {\"findings\": [\"pulmonary_nodule\"], \"gridSize\": [56, 64, 96], "
                    + "\"spacingMm\": [3, 3, 3], \"sigmasMm\": [4], \"clipHu\": [-1000, -400], \"floorHu\": -750, "
                    + "\"regionDilateVoxels\": 2, \"referenceDot\": 60, \"secondLook\": {\"file\": \"x.onnx\", "
                    + "\"candidates\": 32, \"peakWindowVoxels\": 3, \"patchVoxels\": 16, \"clipHu\": [-1000, 200], "
                    + bad + "}}}");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> DotFilters.open(node, spec, java.util.Set.of("lung"),
                            Map.of("pulmonary_nodule", 0), Map.of("pulmonary_nodule", "lung"), file -> {
                                throw new AssertionError("no session is opened for an invalid second look");
                            }))
                    .as(bad).isInstanceOf(org.cttriage.core.error.TriageException.class)
                    .hasMessageContaining("patchSpacingMm");
        }
    }
}
