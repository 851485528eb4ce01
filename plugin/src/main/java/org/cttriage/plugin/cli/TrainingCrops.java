package org.cttriage.plugin.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import org.cttriage.core.inference.OrganCropSpec;
import org.cttriage.core.inference.OrganCrops;
import org.cttriage.core.inference.OrganSegmentation;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;
import org.cttriage.testdata.arrays.NpyWriter;
import org.cttriage.testdata.phantom.FindingTruth;
import org.cttriage.testdata.phantom.Organ;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomRegion;
import org.cttriage.testdata.phantom.PhantomScene;

/**
 * Training organ crops straight from the analytic phantom (issue 12): for each organ (each side of
 * the lungs and kidneys) the box is taken from the phantom's own labels on a coarse 4 mm lattice,
 * as the coarse stage would find it, its centre is jittered so that the model tolerates the coarse
 * stage's errors, only the region under the crop is rendered (at half the crop's in-plane spacing,
 * so that the 2 × 2 in-plane footprint samples fall on rendered voxels) and the crop is computed
 * from it by {@link OrganCrops}, the code inference will use. Files per crop, in OUT/case-NNNNN:
 * {@code NAME.input.npy} (int16 [channel, z, y, x], the channel value × 32767),
 * {@code NAME.organ.npy} (uint8, fraction of the crop voxel in the organ × 255),
 * {@code NAME.findings.npy} (uint16 finding bits), {@code NAME.hu.npy} (int16 footprint-mean HU),
 * and one truth.json for the case.
 */
final class TrainingCrops {
    /** Lattice of the coarse label render that stands in for the coarse stage. */
    static final double COARSE_MM = 4.0;
    /** Crop centre jitter, standard deviation per axis: this plus {@link #JITTER_FRACTION} of the box extent. */
    static final double JITTER_MM = 3.0;
    static final double JITTER_FRACTION = 0.03;
    static final int FORMAT_VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final OrganCrops crops;
    private final boolean jitter;

    TrainingCrops(OrganCropSpec spec, boolean jitter) {
        this.crops = new OrganCrops(spec);
        this.jitter = jitter;
    }

    /** The side of a paired organ by its name in the files ("" for unpaired organs). */
    static OrganSegmentation.Side side(String side) {
        return switch (side) {
            case "" -> OrganSegmentation.Side.WHOLE;
            case "right" -> OrganSegmentation.Side.RIGHT;
            case "left" -> OrganSegmentation.Side.LEFT;
            default -> throw new IllegalArgumentException("side must be \"\", right or left, was " + side);
        };
    }

    /** One crop to make: the organ's grid, its side ("" for unpaired organs) and its true box. */
    record Planned(OrganCropSpec.OrganGrid organ, String side, double[] boxMin, double[] boxMax) {
        String name() {
            return cropName(organ, side);
        }
    }

    /** A crop's name in the files: the organ's, with "_right" or "_left" for a side of a paired organ. */
    static String cropName(OrganCropSpec.OrganGrid organ, String side) {
        return side.isEmpty() ? organ.name() : organ.name() + "_" + side;
    }

    /** Organ boxes (per side for paired organs) from the scene's labels on a coarse lattice. */
    List<Planned> plan(PhantomScene scene) {
        var spec = scene.spec();
        double fovX = spec.columns() * spec.pixelSpacingMm();
        double fovY = spec.rows() * spec.pixelSpacingMm();
        double height = spec.slices() * spec.sliceSpacingMm();
        double zTop = scene.topSliceZLps();
        int nx = (int) Math.ceil(fovX / COARSE_MM);
        int ny = (int) Math.ceil(fovY / COARSE_MM);
        int nz = (int) Math.ceil(height / COARSE_MM);
        double[] origin = {-(nx - 1) / 2.0 * COARSE_MM, -(ny - 1) / 2.0 * COARSE_MM, zTop - (nz - 1) * COARSE_MM};
        PhantomRegion coarse = scene.render(origin, new double[] {COARSE_MM, COARSE_MM, COARSE_MM}, new int[] {nx, ny, nz}, 0);
        OrganSegmentation labels = new OrganSegmentation(coarse.organLabels(), new int[] {nx, ny, nz}, origin,
                new double[] {COARSE_MM, COARSE_MM, COARSE_MM});
        double mid = scene.midlineXLps();
        List<Planned> out = new ArrayList<>();
        for (OrganCropSpec.OrganGrid g : crops.spec().organs()) {
            String[] sides = g.bySide() ? new String[] {"right", "left"} : new String[] {""};
            for (String side : sides) {
                // The phantom's own midline parts right from left here (it knows); the serving path
                // takes the plane from the segmentation (OrganSegmentation#sidePlaneX).
                labels.box(g.label(), side(side), mid)
                        .ifPresent(b -> out.add(new Planned(g, side, b.minLps(), b.maxLps())));
            }
        }
        return out;
    }

    /** Renders, crops and writes every planned crop of the scene; returns the crops written. */
    int write(PhantomScene scene, Path folder) throws IOException {
        Files.createDirectories(folder);
        SplittableRandom r = new SplittableRandom(scene.spec().seed() * 0x9E3779B97F4A7C15L + 12);
        ObjectNode truth = truthOf(scene);
        ArrayNode list = truth.putArray("crops");
        List<Planned> planned = plan(scene);
        for (int c = 0; c < planned.size(); c++) {
            Planned p = planned.get(c);
            double[] lo = p.boxMin().clone();
            double[] hi = p.boxMax().clone();
            double[] shift = new double[3];
            if (jitter) {
                for (int a = 0; a < 3; a++) {
                    shift[a] = r.nextGaussian() * (JITTER_MM + JITTER_FRACTION * (hi[a] - lo[a]));
                    lo[a] += shift[a];
                    hi[a] += shift[a];
                }
            }
            OrganCrops.CropGrid grid = crops.grid(p.organ(), lo, hi);
            Made m = make(scene, grid, 1 + c);
            String name = p.name();
            int[] n = p.organ().gridSize();
            int channels = crops.spec().channels().size();
            short[] q = new short[m.input.length];
            for (int i = 0; i < q.length; i++) {
                q[i] = (short) Math.round(Math.max(-1f, Math.min(1f, m.input[i])) * 32767f);
            }
            NpyWriter.writeInt16(folder.resolve(name + ".input.npy"), q, channels, n[2], n[1], n[0]);
            byte[] organ = fraction255(m.organ);
            NpyWriter.writeUint8(folder.resolve(name + ".organ.npy"), organ, n[2], n[1], n[0]);
            NpyWriter.writeUint16(folder.resolve(name + ".findings.npy"), m.bits, n[2], n[1], n[0]);
            short[] hu = int16(m.hu);
            NpyWriter.writeInt16(folder.resolve(name + ".hu.npy"), hu, n[2], n[1], n[0]);
            list.add(cropTruth(scene, p, grid, shift, m.bits));
        }
        Path part = folder.resolve("truth.json.part");
        JSON.writeValue(part.toFile(), truth);
        Files.move(part, folder.resolve("truth.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return planned.size();
    }

    /** An organ fraction as the files store it: uint8, the fraction × 255. */
    static byte[] fraction255(float[] fraction) {
        byte[] out = new byte[fraction.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Math.round(fraction[i] * 255f);
        }
        return out;
    }

    /** HU as the files store them: int16, rounded and clamped. */
    static short[] int16(float[] hu) {
        short[] out = new short[hu.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (short) Math.round(Math.max(-32768f, Math.min(32767f, hu[i])));
        }
        return out;
    }

    /** A crop's arrays. */
    record Made(float[] input, float[] organ, short[] bits, float[] hu) {
    }

    /**
     * Renders the region under {@code grid} at half its in-plane spacing (its z spacing along z),
     * offset so that the footprint samples of a 2 × 2 × 1 footprint fall on rendered voxel
     * centres, and crops it with {@link OrganCrops}: the serving code path on a smaller volume.
     */
    Made make(PhantomScene scene, OrganCrops.CropGrid grid, long noiseStream) {
        return make(grid, (origin, spacing, size) -> scene.render(origin, spacing, size, noiseStream));
    }

    /** Renders a region of the phantom on a lattice: origin (LPS mm), spacing (mm) and size (voxels) per axis. */
    @FunctionalInterface
    interface RegionRenderer {
        PhantomRegion render(double[] originLps, double[] spacingMm, int[] size);
    }

    /** {@link #make(PhantomScene, OrganCrops.CropGrid, long)} with the region rendered by {@code renderer}. */
    Made make(OrganCrops.CropGrid grid, RegionRenderer renderer) {
        RegionVolume r = renderUnder(grid, renderer);
        VolumeGeometry g = r.volume().geometry();
        OrganCrops.Footprint footprint = crops.footprint(r.volume(), grid);
        return new Made(footprint.channels(), crops.labelFraction(r.labels(), g, grid, grid.organ().label()),
                crops.bitsAny(r.bits(), g, grid), footprint.meanHu());
    }

    /** A rendered region as a volume, with its organ labels and finding bits. */
    record RegionVolume(Volume volume, byte[] labels, short[] bits) {
    }

    /** The phantom region under a crop grid as a {@link Volume} (slices ordered along +Z). */
    RegionVolume renderUnder(OrganCrops.CropGrid grid, RegionRenderer renderer) {
        int[] n = grid.organ().gridSize();
        double[] s = grid.organ().spacingMm();
        int[] fs = crops.spec().footprintSamples();
        double[] rs = {s[0] / fs[0], s[1] / fs[1], s[2] / fs[2]};
        if (rs[0] != rs[1]) {
            throw new IllegalArgumentException("organ " + grid.organ().name() + ": in-plane crop spacing / footprint "
                    + "samples must be equal on x and y");
        }
        double[] o = grid.originLps();
        double[] origin = new double[3];
        int[] size = new int[3];
        for (int a = 0; a < 3; a++) {
            // First footprint sample of voxel 0, one render voxel of border for interpolation safety.
            origin[a] = o[a] - s[a] / 2 + rs[a] / 2 - rs[a];
            size[a] = n[a] * fs[a] + 2;
        }
        PhantomRegion region = renderer.render(origin, rs, size);
        VolumeGeometry g = new VolumeGeometry(size, rs, origin, new double[] {1, 0, 0}, new double[] {0, 1, 0},
                new double[] {0, 0, 1}, 0);
        return new RegionVolume(new Volume("", "", "", g, region.hu(), List.of(), List.of()), region.organLabels(),
                region.findingMask());
    }

    private ObjectNode cropTruth(PhantomScene scene, Planned p, OrganCrops.CropGrid grid, double[] shift, short[] bits) {
        ObjectNode c = JSON.createObjectNode();
        c.put("name", p.name()).put("organ", p.organ().name()).put("label", p.organ().label()).put("side", p.side());
        putArray(c, "gridSize", p.organ().gridSize());
        putArray(c, "spacingMm", p.organ().spacingMm());
        putArray(c, "originLps", grid.originLps());
        putArray(c, "boxMinLps", p.boxMin());
        putArray(c, "boxMaxLps", p.boxMax());
        putArray(c, "jitterMm", shift);
        c.put("coversBox", grid.coversBox());
        int[] count = new int[16];
        for (short b : bits) {
            for (int f = 0; f < 16; f++) {
                if ((b & (1 << f)) != 0) {
                    count[f]++;
                }
            }
        }
        ArrayNode present = c.putArray("findings");
        Set<PhantomFinding> done = EnumSet.noneOf(PhantomFinding.class);
        for (FindingTruth t : scene.truth()) {
            PhantomFinding f = t.finding();
            if (!f.organ().name().toLowerCase(Locale.ROOT).equals(p.organ().name()) || done.contains(f)) {
                continue;
            }
            boolean thisSide = p.side().isEmpty() || scene.truth().stream()
                    .anyMatch(u -> u.finding() == f && u.side().equals(p.side()));
            if (thisSide) {
                done.add(f);
                double largest = scene.truth().stream().filter(u -> u.finding() == f
                        && (p.side().isEmpty() || u.side().equals(p.side()))).mapToDouble(FindingTruth::sizeMm).max().orElse(0);
                present.addObject().put("id", f.id()).put("bit", f.bit()).put("sizeMm", largest)
                        .put("voxelsInCrop", count[f.bit()]);
            }
        }
        return c;
    }

    static ObjectNode truthOf(PhantomScene scene) {
        ObjectNode root = JSON.createObjectNode();
        root.put("formatVersion", FORMAT_VERSION);
        root.put("seed", scene.spec().seed());
        root.put("kind", "organ crops");
        ObjectNode habitus = root.putObject("habitus");
        habitus.put("sex", String.valueOf(scene.habitus().sex())).put("ageYears", scene.habitus().ageYears())
                .put("weightKg", scene.habitus().weightKg()).put("heightCm", scene.habitus().heightCm());
        ObjectNode labels = root.putObject("organLabels");
        for (Organ o : Organ.values()) {
            labels.put(o.name().toLowerCase(Locale.ROOT), o.label());
        }
        ArrayNode present = root.putArray("findings");
        Set<PhantomFinding> inserted = EnumSet.noneOf(PhantomFinding.class);
        for (FindingTruth t : scene.truth()) {
            inserted.add(t.finding());
            ObjectNode f = present.addObject();
            f.put("id", t.finding().id()).put("organ", t.organ().name().toLowerCase(Locale.ROOT))
                    .put("bit", t.finding().bit()).put("side", t.side()).put("sizeMm", t.sizeMm())
                    .put("meanHu", t.meanHu()).put("description", t.description());
            ArrayNode c = f.putArray("centreLpsMm");
            for (double v : t.centreLpsMm()) {
                c.add(v);
            }
        }
        ArrayNode absent = root.putArray("absentFindings");
        for (PhantomFinding f : PhantomFinding.values()) {
            if (!inserted.contains(f)) {
                absent.add(f.id());
            }
        }
        return root;
    }

    static void putArray(ObjectNode n, String key, int[] v) {
        ArrayNode a = n.putArray(key);
        for (int x : v) {
            a.add(x);
        }
    }

    static void putArray(ObjectNode n, String key, double[] v) {
        ArrayNode a = n.putArray(key);
        for (double x : v) {
            a.add(Math.round(x * 1000) / 1000.0);
        }
    }
}
