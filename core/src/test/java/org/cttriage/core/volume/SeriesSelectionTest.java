package org.cttriage.core.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.cttriage.core.volume.Fixtures.built;
import static org.cttriage.core.volume.Fixtures.edit;
import static org.cttriage.core.volume.Fixtures.notBuilt;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DecimalStringAttribute;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.volume.SeriesDecision.Verdict;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.phantom.Phantom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SeriesSelectionTest {
    static Phantom phantom;

    @TempDir
    Path dir;

    @BeforeAll
    static void generate() {
        phantom = Fixtures.phantom(21);
    }

    private CtSeriesWriter.WrittenSeries series(int number, String kernel) throws Exception {
        return Fixtures.write(phantom, SeriesWriteOptions.defaults().withSeries(number, "series " + number, kernel), dir);
    }

    private void editAll(CtSeriesWriter.WrittenSeries s, Fixtures.Edit e) throws Exception {
        for (Path f : s.files()) {
            edit(f, e);
        }
    }

    private static void set(AttributeList list, com.pixelmed.dicom.AttributeTag tag, String... values) throws com.pixelmed.dicom.DicomException {
        Attribute a = list.putNewAttribute(tag);
        for (String v : values) {
            a.addValue(v);
        }
    }

    private SeriesDecision only(StudyVolumeBuilder.Outcome o) {
        assertThat(o.report().decisions()).hasSize(1);
        return o.report().decisions().get(0);
    }

    @Test
    void nonCtSeriesIsRejected() throws Exception {
        editAll(series(1, "STANDARD"), l -> set(l, TagFromName.Modality, "MR"));
        StudyVolumeBuilder.Outcome o = Fixtures.builder().build(dir);
        assertThat(only(o).code()).isEqualTo(ErrorCode.NOT_CT);
        assertThat(only(o).reason()).contains("MR");
        assertThat(notBuilt(o).errorCode()).isEqualTo(ErrorCode.NO_ELIGIBLE_SERIES);
    }

    @Test
    void derivedSeriesIsRejected() throws Exception {
        editAll(series(1, "STANDARD"), l -> set(l, TagFromName.ImageType, "DERIVED", "SECONDARY", "MPR"));
        assertThat(only(Fixtures.builder().build(dir)).code()).isEqualTo(ErrorCode.NOT_ORIGINAL_PRIMARY);
    }

    @Test
    void localizerIsRejected() throws Exception {
        editAll(series(1, "STANDARD"), l -> set(l, TagFromName.ImageType, "ORIGINAL", "PRIMARY", "LOCALIZER"));
        assertThat(only(Fixtures.builder().build(dir)).code()).isEqualTo(ErrorCode.LOCALIZER);
    }

    @Test
    void sagittalSeriesIsNotAxial() throws Exception {
        CtSeriesWriter.WrittenSeries s = series(1, "STANDARD");
        for (int i = 0; i < s.files().size(); i++) {
            double x = -60 + 5.0 * i;
            edit(s.files().get(i), l -> {
                set(l, TagFromName.ImageOrientationPatient, "0", "1", "0", "0", "0", "-1");
                Attribute ipp = new DecimalStringAttribute(TagFromName.ImagePositionPatient);
                ipp.addValue(x);
                ipp.addValue(-200);
                ipp.addValue(200);
                l.put(ipp);
            });
        }
        SeriesDecision d = only(Fixtures.builder().build(dir));
        assertThat(d.code()).isEqualTo(ErrorCode.NOT_AXIAL);
        assertThat(d.reason()).contains("90.0°");
    }

    @Test
    void tooFewSlicesIsRejected() throws Exception {
        series(1, "STANDARD");
        SeriesDecision d = only(Fixtures.builder(SelectionPolicy.defaults().withMinimumSlices(30), AssemblyPolicy.defaults())
                .build(dir));
        assertThat(d.code()).isEqualTo(ErrorCode.TOO_FEW_SLICES);
        assertThat(d.reason()).contains("24 slices").contains("30");
    }

    @Test
    void softTissueKernelIsPreferredAtEqualThickness() throws Exception {
        series(1, "LUNG");
        CtSeriesWriter.WrittenSeries soft = series(2, "B30f");
        StudyVolumeBuilder.Outcome o = Fixtures.builder().build(dir);
        assertThat(built(o).seriesInstanceUid()).isEqualTo(soft.seriesInstanceUid());
        SeriesDecision other = o.report().decisions().get(1);
        assertThat(other.verdict()).isEqualTo(Verdict.NOT_PREFERRED);
        assertThat(other.code()).isEqualTo(ErrorCode.NOT_PREFERRED);
        assertThat(other.reason()).contains("soft-tissue kernel (B30f vs LUNG)");
    }

    @Test
    void thinnerSeriesIsPreferred() throws Exception {
        series(1, "STANDARD");
        Phantom thin = Fixtures.phantom(21, 48, 2.5);
        CtSeriesWriter.WrittenSeries thinSeries = Fixtures.write(thin,
                SeriesWriteOptions.defaults().withSeries(2, "thin", "LUNG"), dir);
        StudyVolumeBuilder.Outcome o = Fixtures.builder().build(dir);
        assertThat(built(o).seriesInstanceUid()).isEqualTo(thinSeries.seriesInstanceUid());
        assertThat(o.report().decisions().get(1).reason()).contains("thinner (2.50 mm vs 5.00 mm)");
    }

    @Test
    void largerCoverageWinsWhenThicknessAndKernelAreEqual() throws Exception {
        CtSeriesWriter.WrittenSeries full = series(1, "STANDARD");
        CtSeriesWriter.WrittenSeries partial = series(2, "STANDARD");
        for (Path f : partial.files().subList(0, 3)) {
            Files.delete(f);
        }
        StudyVolumeBuilder.Outcome o = Fixtures.builder().build(dir);
        assertThat(built(o).seriesInstanceUid()).isEqualTo(full.seriesInstanceUid());
        assertThat(o.report().decisions().get(1).reason()).contains("larger coverage");
    }

    @Test
    void multiPhaseSeriesIsSplitOrRejected() throws Exception {
        CtSeriesWriter.WrittenSeries first = series(1, "STANDARD");
        // A second phase: the same positions in the same series, Acquisition Number 2, new instances.
        Path phase2 = Files.createDirectories(dir.resolve("phase2"));
        for (Path f : first.files()) {
            Path copy = phase2.resolve(f.getFileName());
            Files.copy(f, copy);
            edit(copy, l -> {
                set(l, TagFromName.AcquisitionNumber, "2");
                set(l, TagFromName.SOPInstanceUID, Attribute.getSingleStringValueOrEmptyString(l, TagFromName.SOPInstanceUID) + ".2");
                set(l, TagFromName.MediaStorageSOPInstanceUID, Attribute.getSingleStringValueOrEmptyString(l, TagFromName.SOPInstanceUID));
            });
        }
        StudyVolumeBuilder.Outcome split = Fixtures.builder().build(dir);
        List<SeriesDecision> decisions = split.report().decisions();
        assertThat(decisions).extracting(SeriesDecision::phase).containsExactlyInAnyOrder("acquisition 1", "acquisition 2");
        assertThat(decisions).extracting(SeriesDecision::verdict).containsExactly(Verdict.SELECTED, Verdict.NOT_PREFERRED);
        assertThat(built(split).phase()).isEqualTo("acquisition 1");

        SeriesDecision rejected = only(Fixtures.builder(
                SelectionPolicy.defaults().withDuplicatePositions(SelectionPolicy.DuplicatePositionPolicy.REJECT),
                AssemblyPolicy.defaults()).build(dir));
        assertThat(rejected.code()).isEqualTo(ErrorCode.DUPLICATE_POSITIONS);
        assertThat(rejected.reason()).contains("policy rejects");
    }

    @Test
    void duplicatePositionsWithoutPhaseAttributeAreRejected() throws Exception {
        CtSeriesWriter.WrittenSeries first = series(1, "STANDARD");
        Path dup = first.files().get(4);
        Path copy = dir.resolve("dup.dcm");
        Files.copy(dup, copy);
        edit(copy, l -> set(l, TagFromName.SOPInstanceUID, Attribute.getSingleStringValueOrEmptyString(l, TagFromName.SOPInstanceUID) + ".9"));
        SeriesDecision d = only(Fixtures.builder().build(dir));
        assertThat(d.code()).isEqualTo(ErrorCode.DUPLICATE_POSITIONS);
        assertThat(d.reason()).contains("no Temporal Position");
    }

    @Test
    void everyDecisionCarriesAReason() throws Exception {
        series(1, "LUNG");
        series(2, "STANDARD");
        for (SeriesDecision d : Fixtures.builder().build(dir).report().decisions()) {
            assertThat(d.reason()).isNotBlank();
            assertThat(d.verdict() == Verdict.SELECTED).isEqualTo(d.code() == null);
        }
    }
}
