package org.cttriage.core.dicom.sr;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.validate.DicomSRValidator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.cttriage.core.dicom.SliceHeader;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The SR passes dciodvfy, PixelMed's DicomSRValidator and dcmtk's dsr2xml, and is deterministic. */
@RequiresTools({"dciodvfy", "dsr2xml", "dsrdump"})
class TriageSrWriterTest {
    @TempDir
    Path dir;

    record Case(String name, String patientName, Set<String> present) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        Set<String> all = new java.util.HashSet<>();
        for (String[] c : SrFixtures.CATALOG) {
            all.add(c[0]);
        }
        return Stream.of(new Case("no findings", "Phantom^Case", Set.of()),
                new Case("several findings", "Phantom^Case", Set.of("liver_cyst", "nephrolithiasis", "pleural_effusion")),
                new Case("all 16", "Phantom^Case", all),
                new Case("non-ASCII patient name", "Müller^Zoë", Set.of("splenomegaly")));
    }

    private Path writeSr(List<SliceHeader> slices, TriageResult r, String name) throws Exception {
        Path sr = dir.resolve(name + ".dcm");
        new TriageSrWriter(SrOptions.defaults()).write(SourceStudy.of(slices), r, sr);
        return sr;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void validatorsFindNoErrors(Case c) throws Exception {
        List<SliceHeader> slices = SrFixtures.series(dir.resolve("ct"), c.patientName(), 6);
        Path sr = writeSr(slices, SrFixtures.result(slices, c.present()), "sr");
        assertValid(sr);
    }

    static void assertValid(Path sr) throws Exception {
        ExternalCommand.Result v = ExternalCommand.run(Duration.ofSeconds(60), "dciodvfy", "-new", sr.toString());
        assertThat(v.output().lines().filter(l -> l.startsWith("Error")).toList()).as(v.output()).isEmpty();
        ExternalCommand.Result x = ExternalCommand.run(Duration.ofSeconds(60), "dsr2xml", sr.toString());
        assertThat(x.exitCode()).as(x.output()).isZero();
        assertThat(x.output()).contains("<report");
        AttributeList list = new AttributeList();
        list.read(sr.toFile());
        String report = validator().validate(list);
        List<String> errors = report.lines().filter(l -> l.contains("Error")).toList();
        assertThat(errors).as(report).isEmpty();
    }

    @Test
    void sameInputGivesByteIdenticalSrAndReTriageKeepsTrackingUids() throws Exception {
        List<SliceHeader> slices = SrFixtures.series(dir.resolve("ct"), "Phantom^Case", 6);
        TriageResult r = SrFixtures.result(slices, Set.of("liver_cyst"));
        Path a = writeSr(slices, r, "a");
        Path b = writeSr(slices, r, "b");
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));

        // A late instance arrives: the re-triage covers one more instance.
        List<SliceHeader> more = new ArrayList<>(slices.subList(0, 5));
        Path c = writeSr(more, SrFixtures.result(more, Set.of("liver_cyst")), "c");
        AttributeList first = read(a);
        AttributeList second = read(c);
        assertThat(sop(second)).isNotEqualTo(sop(first));
        assertThat(Attribute.getSingleStringValueOrEmptyString(second, TagFromName.SeriesInstanceUID))
                .isEqualTo(Attribute.getSingleStringValueOrEmptyString(first, TagFromName.SeriesInstanceUID));
        assertThat(trackingUids(c)).isEqualTo(trackingUids(a)).hasSize(16);
        assertValid(c);
    }

    @Test
    void copiesStudyAndReferencesEveryInstance() throws Exception {
        List<SliceHeader> slices = SrFixtures.series(dir.resolve("ct"), "Phantom^Case", 6);
        AttributeList sr = read(writeSr(slices, SrFixtures.result(slices, Set.of()), "sr"));
        assertThat(Attribute.getSingleStringValueOrEmptyString(sr, TagFromName.StudyInstanceUID))
                .isEqualTo(slices.get(0).studyInstanceUid());
        assertThat(Attribute.getSingleStringValueOrEmptyString(sr, TagFromName.Modality)).isEqualTo("SR");
        assertThat(Attribute.getSingleStringValueOrEmptyString(sr, TagFromName.VerificationFlag)).isEqualTo("UNVERIFIED");
        ExternalCommand.Result dump = ExternalCommand.run(Duration.ofSeconds(60), "dsrdump", "+Pu", "+Pl", dir.resolve("sr.dcm").toString());
        for (SliceHeader s : slices) {
            assertThat(dump.output()).contains(s.sopInstanceUid());
        }
        assertThat(dump.output()).contains("Imaging Measurement Report").contains("All algorithms succeeded; without findings");
    }

    @Test
    void namesTheSeriesUsedAndWhyTheOthersWereNotAndStaysValid() throws Exception {
        List<SliceHeader> slices = SrFixtures.series(dir.resolve("ct"), "Phantom^Case", 6);
        List<String> selection = List.of("Series used: " + slices.get(0).seriesInstanceUid() + " (6 slices, 2.5 mm)",
                "Series not used: 1.2.3.4.5 (TRIAGE-0215 another series preferred: soft-tissue kernel (STANDARD vs LUNG))");
        Path sr = dir.resolve("selection.dcm");
        TriageSrWriter writer = new TriageSrWriter(SrOptions.defaults());
        writer.write(writer.build(SourceStudy.of(slices), SrFixtures.result(slices, Set.of("liver_cyst")),
                java.util.Optional.empty(), selection), sr);
        assertValid(sr);
        String dump = ExternalCommand.run(Duration.ofSeconds(60), "dsrdump", "+Pl", "+Pu", sr.toString()).output();
        assertThat(dump).contains("Series selection").contains(selection.get(0)).contains(selection.get(1));
    }

    private static DicomSRValidator validator;

    /** Compiling PixelMed's validation stylesheets takes seconds, so one validator serves every test. */
    static synchronized DicomSRValidator validator() throws Exception {
        if (validator == null) {
            validator = new DicomSRValidator();
        }
        return validator;
    }

    /** The reviewed dsrdump of the "several findings" SR; regenerate with -Dgolden.update=true and review the diff. */
    @Test
    void matchesGoldenDump() throws Exception {
        List<SliceHeader> slices = SrFixtures.series(dir.resolve("ct"), "Phantom^Case", 6);
        Path sr = writeSr(slices, SrFixtures.result(slices, Set.of("liver_cyst", "nephrolithiasis", "pleural_effusion")), "g");
        String dump = ExternalCommand.run(Duration.ofSeconds(60), "dsrdump", "+Pl", "+Pu", "+Pc", sr.toString()).output();
        Path golden = Path.of("src", "test", "resources", "golden", "sr-several-findings.dsrdump.txt");
        if (Boolean.getBoolean("golden.update")) {
            Files.createDirectories(golden.getParent());
            Files.writeString(golden, dump);
        }
        assertThat(dump).isEqualTo(Files.readString(golden));
    }

    private static List<String> trackingUids(Path sr) throws Exception {
        ExternalCommand.Result dump = ExternalCommand.run(Duration.ofSeconds(60), "dsrdump", "+Pl", sr.toString());
        return dump.output().lines().filter(l -> l.contains("Tracking Unique Identifier")).toList();
    }

    private static AttributeList read(Path p) throws Exception {
        AttributeList l = new AttributeList();
        l.read(p.toFile());
        return l;
    }

    private static String sop(AttributeList l) {
        return Attribute.getSingleStringValueOrEmptyString(l, TagFromName.SOPInstanceUID);
    }
}
