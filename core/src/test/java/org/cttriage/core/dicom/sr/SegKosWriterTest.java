package org.cttriage.core.dicom.sr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.cttriage.core.domain.FindingLocation;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.domain.ResultObject;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.inference.OrganSegmentation;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.core.volume.SliceSource;
import org.cttriage.core.volume.StudyVolumeBuilder;
import org.cttriage.core.volume.Volume;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The organ SEG, the key-image KOS and the SR that references both: dciodvfy finds no error in any of them,
 * PixelMed's SR validator none in the SR, dcmdump/dsrdump read them, and pydicom decodes the SEG's frames back
 * into the organ masks on the source grid, voxel for voxel, for single-frame and Enhanced CT sources.
 */
@RequiresTools({"dciodvfy", "dcmdump", "dsrdump", "dsr2xml", "/usr/bin/python3"})
class SegKosWriterTest {
    private static final Duration TOOL = Duration.ofSeconds(120);
    /** The reference dictionary's labels (models/ctglip-ref/dictionary.json). */
    private static final Map<String, Integer> LABELS = Map.of("lung", 1, "liver", 2, "gallbladder", 3, "kidney", 4,
            "pancreas", 5, "spleen", 6, "aorta", 7);
    private static ExecutorService pool;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        pool = Executors.newFixedThreadPool(2);
    }

    @AfterAll
    static void stop() {
        pool.shutdownNow();
    }

    /** A source series, its volume, and a coarse segmentation (as the model gives it) placed on its grid. */
    record Fixture(Path ctFolder, Volume volume, SourceStudy source, byte[] labels) {
    }

    private Fixture fixture(SeriesWriteOptions.Layout layout) throws Exception {
        return fixture(layout, true);
    }

    private Fixture fixture(SeriesWriteOptions.Layout layout, boolean withGallbladder) throws Exception {
        Path ct = dir.resolve("ct");
        new CtSeriesWriter().write(PhantomSeries.small(7), SeriesWriteOptions.defaults().withLayout(layout), ct);
        StudyVolumeBuilder.Outcome outcome = new StudyVolumeBuilder(SelectionPolicy.defaults().withMinimumSlices(1),
                AssemblyPolicy.defaults(), pool).build(ct);
        assertThat(outcome).isInstanceOf(StudyVolumeBuilder.Built.class);
        StudyVolumeBuilder.Built built = (StudyVolumeBuilder.Built) outcome;
        Volume v = built.volume();
        SourceStudy source = SourceStudy.of(built.report().selected().orElseThrow().plan().slices());
        // The model's grid: axis-aligned, 25 mm, from the volume's first voxel; every organ (a box each), the
        // gallbladder only when asked (a patient after cholecystectomy has none).
        int[] g = {17, 17, 6};
        byte[] coarse = new byte[g[0] * g[1] * g[2]];
        fill(coarse, g, 1, 2, 13, 2, 6, 4, 5);
        fill(coarse, g, 2, 3, 7, 7, 11, 1, 3);
        if (withGallbladder) {
            fill(coarse, g, 3, 8, 8, 8, 9, 2, 2);
        }
        fill(coarse, g, 4, 10, 12, 9, 11, 0, 2);
        fill(coarse, g, 5, 8, 10, 12, 12, 3, 3);
        fill(coarse, g, 6, 13, 14, 7, 9, 1, 2);
        fill(coarse, g, 7, 9, 9, 10, 11, 0, 4);
        OrganSegmentation segmentation = new OrganSegmentation(coarse, g, v.geometry().origin(),
                new double[] {25, 25, 25});
        return new Fixture(ct, v, source, segmentation.onGrid(v.geometry()));
    }

    private static void fill(byte[] labels, int[] g, int label, int i0, int i1, int j0, int j1, int k0, int k1) {
        for (int k = k0; k <= k1; k++) {
            for (int j = j0; j <= j1; j++) {
                for (int i = i0; i <= i1; i++) {
                    labels[(k * g[1] + j) * g[0] + i] = (byte) label;
                }
            }
        }
    }

    private static List<SegWriter.Organ> organs() {
        List<SegWriter.Organ> organs = new ArrayList<>();
        LABELS.entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e ->
                organs.add(new SegWriter.Organ(e.getKey(), e.getValue(), SrFixtures.ORGANS.get(e.getKey()))));
        return organs;
    }

    private SegWriter.Seg seg(Fixture f) throws Exception {
        return new SegWriter(SrOptions.defaults()).build(f.source(), f.volume().geometry(), f.volume().slices(),
                f.labels(), organs(), SrFixtures.MODEL).orElseThrow();
    }

    @ParameterizedTest
    @EnumSource(SeriesWriteOptions.Layout.class)
    void segPassesDciodvfyAndDecodesToTheOrganMasksVoxelForVoxel(SeriesWriteOptions.Layout layout) throws Exception {
        Fixture f = fixture(layout);
        SegWriter.Seg seg = seg(f);
        assertThat(seg.segments()).extracting(s -> s.organ().id()).containsExactly("lung", "liver", "gallbladder",
                "kidney", "pancreas", "spleen", "aorta");
        Path file = new SegWriter(SrOptions.defaults()).writeInto(seg, dir);
        assertNoDciodvfyErrors(file);
        // PixelMed's IOD check asks for Laterality whenever no Image or Frame Laterality is sent; the standard (and
        // dciodvfy, which reports an empty one as an error) wants it absent for an unpaired body part (CHESTABDOMEN):
        // the SEG follows the standard, and this is the one thing PixelMed reports.
        AttributeList read = new AttributeList();
        read.read(file.toFile());
        String iod = new com.pixelmed.validate.DicomInstanceValidator().validate(read);
        assertThat(iod).contains("Found Segmentation IOD");
        assertThat(iod.lines().filter(l -> l.contains("Error")).toList()).as(iod)
                .containsExactly("Error: GeneralSeriesModule/Laterality/: : Missing conditional attribute");
        ExternalCommand.Result dump = ExternalCommand.run(TOOL, "dcmdump", "+P", "SegmentLabel", file.toString());
        assertThat(dump.exitCode()).as(dump.output()).isZero();
        assertThat(dump.output()).contains("Lung").contains("Liver").contains("Kidney");

        Path expected = dir.resolve("expected.u8");
        Files.write(expected, f.labels());
        Path organCodes = dir.resolve("organs.json");
        StringBuilder json = new StringBuilder("{");
        for (SegWriter.Organ o : organs()) {
            json.append(json.length() > 1 ? "," : "").append('"').append(o.code().value()).append("\":").append(o.label());
        }
        Files.writeString(organCodes, json.append('}'));
        Path script = Path.of(getClass().getResource("seg_masks.py").toURI());
        ExternalCommand.Result decoded = ExternalCommand.run(TOOL, "/usr/bin/python3", script.toString(), file.toString(),
                f.ctFolder().toString(), expected.toString(), organCodes.toString());
        assertThat(decoded.exitCode()).as(decoded.output()).isZero();
        assertThat(decoded.output()).contains("voxels equal " + f.labels().length + " segments 7");
        // Only slices that hold a segment are frames of it.
        int frames = seg.segments().stream().mapToInt(SegWriter.Segment::frames).sum();
        assertThat(frames).isLessThan(7 * f.volume().geometry().size()[2]);
        assertThat(decoded.output()).contains("frames " + frames);
    }

    @Test
    void sameInputGivesTheSameSegUid() throws Exception {
        Fixture f = fixture(SeriesWriteOptions.Layout.SINGLE_FRAME);
        assertThat(seg(f).sopInstanceUid()).isEqualTo(seg(f).sopInstanceUid());
        assertThat(seg(f).segments().get(1).volumeMl()).isEqualTo(
                seg(f).segments().get(1).voxels() * SegWriter.voxelVolumeMm3(f.volume().geometry()) / 1000.0);
    }

    @Test
    void noOrganVoxelsGivesNoSeg() throws Exception {
        Fixture f = fixture(SeriesWriteOptions.Layout.SINGLE_FRAME);
        assertThat(new SegWriter(SrOptions.defaults()).build(f.source(), f.volume().geometry(), f.volume().slices(),
                new byte[f.labels().length], organs(), SrFixtures.MODEL)).isEmpty();
    }

    @Test
    void aSourceWithoutFrameOfReferenceGetsACodedErrorNotASeg() throws Exception {
        Fixture f = fixture(SeriesWriteOptions.Layout.SINGLE_FRAME);
        Map<String, String> attributes = new LinkedHashMap<>(f.source().attributes());
        attributes.put("FrameOfReferenceUID", "");
        SourceStudy noFrame = new SourceStudy(attributes, f.source().seriesInstanceUid(), f.source().instances());
        assertThatThrownBy(() -> new SegWriter(SrOptions.defaults()).build(noFrame, f.volume().geometry(),
                f.volume().slices(), f.labels(), organs(), SrFixtures.MODEL))
                .isInstanceOf(TriageException.class).hasMessageStartingWith("TRIAGE-0102");
    }

    @Test
    void kosSelectsEachPresentFindingsSliceOnceAndNamesTheFindings() throws Exception {
        Fixture f = fixture(SeriesWriteOptions.Layout.SINGLE_FRAME);
        TriageResult result = located(f, Set.of("liver_cyst", "liver_mass", "nephrolithiasis"));
        KosWriter.Kos kos = new KosWriter(SrOptions.defaults()).build(f.source(), result).orElseThrow();
        assertThat(kos.images()).hasSize(2);
        Path file = new KosWriter(SrOptions.defaults()).writeInto(kos, dir);
        assertNoDciodvfyErrors(file);
        AttributeList read = new AttributeList();
        read.read(file.toFile());
        String report = TriageSrWriterTest.validator().validate(read);
        assertThat(report).contains("Found KeyObjectSelectionDocument IOD").contains("TID_2010");
        assertThat(report.lines().filter(l -> l.contains("Error")).toList()).as(report).isEmpty();
        ExternalCommand.Result dump = ExternalCommand.run(TOOL, "dsrdump", "+Pl", "+Pu", file.toString());
        assertThat(dump.exitCode()).as(dump.output()).isZero();
        assertThat(dump.output()).contains("Of Interest").contains("Key Object Description").contains("liver_cyst")
                .contains("liver_mass").contains("nephrolithiasis").doesNotContain("pleural_effusion");
        for (KosWriter.KeyImage i : kos.images()) {
            assertThat(dump.output()).contains(i.sopInstanceUid());
        }
        assertThat(new KosWriter(SrOptions.defaults()).build(f.source(), located(f, Set.of()))).isEmpty();
    }

    @Test
    void rejectionNoteWithdrawsTheSupersededResultsSrSegAndKos() throws Exception {
        Fixture f = fixture(SeriesWriteOptions.Layout.SINGLE_FRAME);
        TriageResult result = located(f, Set.of("liver_cyst"));
        KosWriter writer = new KosWriter(SrOptions.defaults());
        SegWriter.Seg seg = seg(f);
        KosWriter.Kos kos = writer.build(f.source(), result).orElseThrow();
        Path sr = new TriageSrWriter(SrOptions.defaults()).writeInto(f.source(), result, Optional.empty(), List.of(),
                new TriageSrWriter.Companions(Optional.of(seg), Optional.of(kos)), dir);
        TriageSrWriter.Predecessor srId = TriageSrWriter.Predecessor.of(sr);
        List<ResultObject> superseded = List.of(
                new ResultObject(ResultObject.SR, srId.sopClassUid(), srId.sopInstanceUid(), srId.seriesInstanceUid(), sr),
                new SegWriter(SrOptions.defaults()).write(seg, dir.resolve("seg.dcm")),
                writer.write(kos, dir.resolve("kos.dcm")));

        KosWriter.Rejection note = writer.buildRejection(f.source(), result, superseded).orElseThrow();
        assertThat(note.rejects()).containsExactly(srId.sopInstanceUid(), seg.sopInstanceUid(), kos.sopInstanceUid());
        assertThat(note.seriesInstanceUid()).isNotIn(srId.seriesInstanceUid(), seg.seriesInstanceUid(),
                kos.seriesInstanceUid());
        ResultObject written = writer.write(note, dir.resolve("rejection.dcm"));
        assertThat(written.isRejectionNote()).isTrue();
        assertThat(written.rejects()).isEqualTo(note.rejects());
        assertNoDciodvfyErrors(written.file());
        AttributeList read = new AttributeList();
        read.read(written.file().toFile());
        String report = TriageSrWriterTest.validator().validate(read);
        assertThat(report).contains("Found KeyObjectSelectionDocument IOD").contains("TID_2010");
        assertThat(report.lines().filter(l -> l.contains("Error")).toList()).as(report).isEmpty();
        ExternalCommand.Result dump = ExternalCommand.run(TOOL, "dsrdump", "+Pl", "+Pu", "+Pc",
                written.file().toString());
        assertThat(dump.exitCode()).as(dump.output()).isZero();
        // The IOCM title, the SEG as an image, the SR and KOS as composite objects.
        assertThat(dump.output()).contains("(113001,DCM,\"Rejected for Quality Reasons\")")
                .contains("IMAGE:").contains("COMPOSITE:");
        for (String uid : note.rejects()) {
            assertThat(dump.output()).contains(uid);
        }
        // The evidence lists each withdrawn object under its own series of the study.
        String evidence = read.get(com.pixelmed.dicom.TagFromName.CurrentRequestedProcedureEvidenceSequence).toString();
        for (String uid : List.of(srId.seriesInstanceUid(), seg.seriesInstanceUid(), kos.seriesInstanceUid())) {
            assertThat(evidence).contains(uid);
        }
        assertThat(Attribute.getSingleStringValueOrEmptyString(read, com.pixelmed.dicom.TagFromName.StudyInstanceUID))
                .isEqualTo(f.source().get("StudyInstanceUID"));
        // The same input and the same withdrawn objects give the same note; nothing withdrawn gives none.
        assertThat(writer.buildRejection(f.source(), result, superseded).orElseThrow().sopInstanceUid())
                .isEqualTo(note.sopInstanceUid());
        assertThat(writer.buildRejection(f.source(), result, List.of())).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(SeriesWriteOptions.Layout.class)
    void srMeasuresTheSegmentsLocatesTheFindingsAndReferencesSegAndKos(SeriesWriteOptions.Layout layout)
            throws Exception {
        Fixture f = fixture(layout);
        TriageResult result = located(f, Set.of("liver_cyst", "nephrolithiasis"));
        SegWriter.Seg seg = seg(f);
        KosWriter.Kos kos = new KosWriter(SrOptions.defaults()).build(f.source(), result).orElseThrow();
        Path sr = new TriageSrWriter(SrOptions.defaults()).writeInto(f.source(), result, Optional.empty(), List.of(),
                new TriageSrWriter.Companions(Optional.of(seg), Optional.of(kos)), dir);
        TriageSrWriterTest.assertValid(sr);
        String dump = ExternalCommand.run(TOOL, "dsrdump", "+Pl", "+Pu", "+Pc", sr.toString()).output();
        assertThat(dump).contains("Referenced Segment").contains("Source series for segmentation")
                .contains("Source of Measurement").contains("SCOORD3D").contains("POINT");
        for (SegWriter.Segment s : seg.segments()) {
            assertThat(dump).contains(String.format(java.util.Locale.ROOT, "\"%.1f\" (ml,UCUM,\"milliliter\")",
                    s.volumeMl()));
        }
        AttributeList list = new AttributeList();
        list.read(sr.toFile());
        String evidence = list.get(com.pixelmed.dicom.TagFromName.CurrentRequestedProcedureEvidenceSequence).toString();
        assertThat(evidence).contains(seg.sopInstanceUid()).contains(kos.sopInstanceUid());
        if (layout == SeriesWriteOptions.Layout.ENHANCED_MULTI_FRAME) {
            assertThat(f.volume().slices()).allSatisfy(s -> assertThat(s.frameNumber()).isPositive());
        }
    }

    /**
     * An organ the model found no voxel of has no segment, so its findings' groups stay TID 1501 beside the TID 1411
     * ones: the standard allows the mix (TID 1500 rows 7-9), dciodvfy accepts it, but PixelMed's validator picks one
     * template for the whole Imaging Measurements container (TID 1411 as soon as any group references a segment) and
     * reports the TID 1501 groups as TID 1411 groups lacking a region. This pins that down to exactly those groups.
     */
    @Test
    void anUnsegmentedOrgansFindingsStayTid1501AndOnlyPixelMedsPerContainerTemplateChoiceObjects() throws Exception {
        Fixture f = fixture(SeriesWriteOptions.Layout.SINGLE_FRAME, false);
        TriageResult result = located(f, Set.of("liver_cyst"));
        SegWriter.Seg seg = seg(f);
        assertThat(seg.segments()).extracting(s -> s.organ().id()).doesNotContain("gallbladder").hasSize(6);
        Path sr = new TriageSrWriter(SrOptions.defaults()).writeInto(f.source(), result, Optional.empty(), List.of(),
                new TriageSrWriter.Companions(Optional.of(seg), Optional.empty()), dir);
        assertNoDciodvfyErrors(sr);
        AttributeList list = new AttributeList();
        list.read(sr.toFile());
        String report = TriageSrWriterTest.validator().validate(list);
        // cholelithiasis is the 9th finding: its group is 1.9.9
        assertThat(report.lines().filter(l -> l.contains("Error")).toList()).as(report).isNotEmpty().allSatisfy(l ->
                assertThat(l).startsWith("Error: Template 1411 VolumetricROIMeasurements/").contains("within 1.9.9: ")
                        .endsWith("Missing conditional content item"));
    }

    private static void assertNoDciodvfyErrors(Path file) throws Exception {
        ExternalCommand.Result v = ExternalCommand.run(TOOL, "dciodvfy", "-new", file.toString());
        assertThat(v.output().lines().filter(l -> l.startsWith("Error")).toList()).as(v.output()).isEmpty();
    }

    /** A result whose present findings lie at their organ's centre in the fixture, as the engine places them. */
    private static TriageResult located(Fixture f, Set<String> present) {
        TriageResult base = SrFixtures.result(f.source(), present);
        List<FindingResult> findings = new ArrayList<>();
        for (FindingResult r : base.findings()) {
            FindingLocation l = null;
            if (r.present()) {
                int k = r.organ().equals("kidney") ? 1 : 3;
                SliceSource s = f.volume().nearestReceivedSlice(k).orElseThrow();
                double[] p = f.volume().geometry().positionOf(30, 40, k);
                l = new FindingLocation(List.of(p[0], p[1], p[2]), s.sopClassUid(), s.sopInstanceUid(), s.frameNumber(),
                        FindingLocation.ORGAN_CENTRE);
            }
            findings.add(new FindingResult(r.id(), r.organ(), r.finding(), r.organCode(), r.probability(), r.threshold(),
                    r.reportable(), r.present(), r.severity(), l));
        }
        return new TriageResult(base.studyInstanceUid(), base.seriesInstanceUid(), base.sourceInstances(), findings,
                base.organVolumesMl(), base.suggestedPriority(), base.model(), base.timingsMillis());
    }
}
