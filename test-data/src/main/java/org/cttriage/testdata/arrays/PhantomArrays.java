package org.cttriage.testdata.arrays;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.cttriage.testdata.phantom.FindingTruth;
import org.cttriage.testdata.phantom.Organ;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomSpec;

/**
 * Writes a phantom's ground truth and arrays beside its series (format in test-data/README.md):
 * {@code truth.json}, {@code labels.npy} (uint8 organ labels, shape [slices, rows, columns]),
 * {@code findings.npy} (uint16 bit mask, bit = {@link PhantomFinding#bit()}) and, for the
 * training fast path, {@code image.npy} (int16 HU).
 */
public final class PhantomArrays {
    /** Version of the truth.json / array layout; bump when it changes. */
    public static final int FORMAT_VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PhantomArrays() {
    }

    /** Writes truth.json, labels.npy and findings.npy; image.npy too when {@code withImage}. */
    public static void write(Phantom phantom, Path folder, boolean withImage, String studyUid, String seriesUid)
            throws IOException {
        Files.createDirectories(folder);
        PhantomSpec s = phantom.spec();
        int[] shape = {s.slices(), s.rows(), s.columns()};
        NpyWriter.writeUint8(folder.resolve("labels.npy"), phantom.organLabels(), shape);
        NpyWriter.writeUint16(folder.resolve("findings.npy"), phantom.findingMask(), shape);
        if (withImage) {
            NpyWriter.writeInt16(folder.resolve("image.npy"), phantom.hu(), shape);
        }
        writeTruth(phantom, folder, truth(phantom, withImage, studyUid, seriesUid));
    }

    /** Writes truth.json alone into {@code folder}. */
    public static void writeTruth(Phantom phantom, Path folder, ObjectNode truth) throws IOException {
        Files.createDirectories(folder);
        Path part = folder.resolve("truth.json.part");
        JSON.writeValue(part.toFile(), truth);
        Files.move(part, folder.resolve("truth.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The truth document (see test-data/README.md). */
    public static ObjectNode truth(Phantom phantom, boolean withImage, String studyUid, String seriesUid) {
        PhantomSpec s = phantom.spec();
        ObjectNode root = JSON.createObjectNode();
        root.put("formatVersion", FORMAT_VERSION);
        root.put("seed", s.seed());
        if (studyUid != null) {
            root.put("studyInstanceUid", studyUid);
        }
        if (seriesUid != null) {
            root.put("seriesInstanceUid", seriesUid);
        }
        ObjectNode spec = root.putObject("spec");
        spec.put("columns", s.columns()).put("rows", s.rows()).put("slices", s.slices())
                .put("pixelSpacingMm", s.pixelSpacingMm()).put("sliceSpacingMm", s.sliceSpacingMm())
                .put("sliceThicknessMm", s.sliceThicknessMm()).put("contrastPhase", s.phase().name());
        ObjectNode geometry = root.putObject("geometry");
        geometry.put("axes", "arrays are [slice, row, column]; slice 0 is the most superior");
        ArrayNode origin = geometry.putArray("firstSliceOriginLpsMm");
        for (double v : phantom.sliceOrigin(0)) {
            origin.add(v);
        }
        geometry.putArray("rowDirection").add(1).add(0).add(0);
        geometry.putArray("columnDirection").add(0).add(1).add(0);
        geometry.putArray("sliceDirection").add(0).add(0).add(-1);
        ObjectNode habitus = root.putObject("habitus");
        habitus.put("sex", String.valueOf(phantom.habitus().sex())).put("ageYears", phantom.habitus().ageYears())
                .put("weightKg", phantom.habitus().weightKg()).put("heightCm", phantom.habitus().heightCm());
        ObjectNode labels = root.putObject("organLabels");
        for (Organ o : Organ.values()) {
            labels.put(o.name().toLowerCase(java.util.Locale.ROOT), o.label());
        }
        ArrayNode present = root.putArray("findings");
        java.util.Set<PhantomFinding> inserted = java.util.EnumSet.noneOf(PhantomFinding.class);
        for (FindingTruth t : phantom.truth()) {
            inserted.add(t.finding());
            ObjectNode f = present.addObject();
            f.put("id", t.finding().id()).put("organ", t.organ().name().toLowerCase(java.util.Locale.ROOT))
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
        ObjectNode arrays = root.putObject("arrays");
        arrays.put("labels", "labels.npy").put("findings", "findings.npy");
        if (withImage) {
            arrays.put("image", "image.npy");
        }
        return root;
    }
}
