package org.cttriage.plugin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.cttriage.core.inference.OrganCropSpec;
import org.cttriage.core.inference.OrganCrops;
import org.cttriage.testdata.arrays.NpyWriter;
import org.cttriage.testdata.phantom.FindingTruth;
import org.cttriage.testdata.phantom.PhantomScene;

/**
 * Fine patches around points of an organ, for training a second look (issue 12, the lung nodules):
 * a coarse detector proposes candidate points, and a classifier looks at a small patch of the
 * full-resolution volume around each. For each case this renders, with the spec's single organ grid
 * (its size and spacing: the patch), one patch centred on each given point and one on each lesion of
 * that organ (its centre jittered by up to {@link #LESION_JITTER_MM} per axis, the candidate
 * lattice's error), through the same {@link OrganCrops} footprint code as inference, as {@link
 * TrainingCrops} does for whole organ crops. Files in OUT/case-NNNNN: {@code patches.hu.npy} (int16
 * footprint-mean HU [patch, z, y, x]), {@code patches.organ.npy} (uint8 organ fraction × 255),
 * {@code patches.findings.npy} (uint16 finding bits) and truth.json (the case's findings, and per
 * patch its side, source, centre and origin). A case with no point and no lesion gets truth.json
 * alone.
 */
final class TrainingPatches {
    /** Jitter of a lesion patch's centre, uniform per axis, mm. */
    static final double LESION_JITTER_MM = 4.0;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A point to look at: the organ's side ("" for unpaired organs) and the point in LPS mm. */
    record Point(String side, double[] lps) {
        Point {
            TrainingCrops.side(side);
            if (lps.length != 3) {
                throw new IllegalArgumentException("a point needs 3 coordinates (LPS mm), had " + lps.length);
            }
            lps = lps.clone();
        }
    }

    private final OrganCropSpec.OrganGrid patch;
    private final TrainingCrops renderer;

    TrainingPatches(OrganCropSpec spec) {
        if (spec.organs().size() != 1) {
            throw new IllegalArgumentException("a patch spec has exactly one organ grid (the patch), had "
                    + spec.organs().size());
        }
        this.patch = spec.organs().get(0);
        this.renderer = new TrainingCrops(spec, false);
    }

    /**
     * Points per seed from JSON {@code {"SEED": [{"side": "left", "lps": [x, y, z]}, ...], ...}}; a seed
     * the file does not name has no points.
     */
    static Map<Long, List<Point>> readPoints(JsonNode root) {
        if (!root.isObject()) {
            throw new IllegalArgumentException("points: a JSON object keyed by seed");
        }
        Map<Long, List<Point>> out = new HashMap<>();
        var fields = root.fields();
        while (fields.hasNext()) {
            var e = fields.next();
            long seed;
            try {
                seed = Long.parseLong(e.getKey());
            } catch (NumberFormatException x) {
                throw new IllegalArgumentException("points: key " + e.getKey() + " is not a seed");
            }
            List<Point> list = new ArrayList<>();
            for (JsonNode p : e.getValue()) {
                JsonNode lps = p.path("lps");
                if (!lps.isArray() || lps.size() != 3) {
                    throw new IllegalArgumentException("points: seed " + seed + ": each point needs lps [x, y, z]");
                }
                list.add(new Point(p.path("side").asText(""), new double[] {lps.get(0).asDouble(), lps.get(1).asDouble(),
                    lps.get(2).asDouble()}));
            }
            out.put(seed, list);
        }
        return out;
    }

    /** The patch grid centred on {@code centreLps}. */
    OrganCrops.CropGrid grid(double[] centreLps) {
        int[] size = patch.gridSize();
        double[] s = patch.spacingMm();
        double[] origin = new double[3];
        for (int a = 0; a < 3; a++) {
            origin[a] = centreLps[a] - (size[a] - 1) / 2.0 * s[a];
        }
        return new OrganCrops.CropGrid(patch, origin, true);
    }

    /** One patch's arrays, the region under it rendered by {@code renderer}. */
    TrainingCrops.Made make(OrganCrops.CropGrid grid, TrainingCrops.RegionRenderer renderer) {
        return this.renderer.make(grid, renderer);
    }

    /** Renders and writes the case's patches (the given points, then the organ's lesions); returns their count. */
    int write(PhantomScene scene, Path folder, List<Point> points) throws IOException {
        Files.createDirectories(folder);
        SplittableRandom r = new SplittableRandom(scene.spec().seed() * 0x9E3779B97F4A7C15L + 31);
        List<Point> all = new ArrayList<>(points);
        List<String> sources = new ArrayList<>();
        points.forEach(p -> sources.add("point"));
        String organ = patch.name();
        for (FindingTruth t : scene.truth()) {
            if (!t.organ().name().toLowerCase(Locale.ROOT).equals(organ)) {
                continue;
            }
            double[] c = t.centreLpsMm().clone();
            for (int a = 0; a < 3; a++) {
                c[a] += (2 * r.nextDouble() - 1) * LESION_JITTER_MM;
            }
            all.add(new Point(patch.bySide() ? t.side() : "", c));
            sources.add("lesion " + t.finding().id());
        }
        ObjectNode truth = TrainingCrops.truthOf(scene);
        truth.put("kind", "organ patches");
        ObjectNode grid = truth.putObject("patchGrid");
        grid.put("organ", organ).put("label", patch.label());
        TrainingCrops.putArray(grid, "gridSize", patch.gridSize());
        TrainingCrops.putArray(grid, "spacingMm", patch.spacingMm());
        ArrayNode list = truth.putArray("patches");
        int n = patch.voxels();
        short[] hu = new short[all.size() * n];
        byte[] organFraction = new byte[all.size() * n];
        short[] bits = new short[all.size() * n];
        int[] size = patch.gridSize();
        for (int k = 0; k < all.size(); k++) {
            Point p = all.get(k);
            OrganCrops.CropGrid g = grid(p.lps());
            TrainingCrops.Made m = renderer.make(scene, g, 1000 + k);
            System.arraycopy(TrainingCrops.int16(m.hu()), 0, hu, k * n, n);
            System.arraycopy(TrainingCrops.fraction255(m.organ()), 0, organFraction, k * n, n);
            System.arraycopy(m.bits(), 0, bits, k * n, n);
            ObjectNode e = list.addObject();
            e.put("index", k).put("side", p.side()).put("source", sources.get(k));
            TrainingCrops.putArray(e, "centreLps", p.lps());
            TrainingCrops.putArray(e, "originLps", g.originLps());
        }
        if (!all.isEmpty()) {
            NpyWriter.writeInt16(folder.resolve("patches.hu.npy"), hu, all.size(), size[2], size[1], size[0]);
            NpyWriter.writeUint8(folder.resolve("patches.organ.npy"), organFraction, all.size(), size[2], size[1], size[0]);
            NpyWriter.writeUint16(folder.resolve("patches.findings.npy"), bits, all.size(), size[2], size[1], size[0]);
        }
        Path part = folder.resolve("truth.json.part");
        JSON.writeValue(part.toFile(), truth);
        Files.move(part, folder.resolve("truth.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return all.size();
    }
}
