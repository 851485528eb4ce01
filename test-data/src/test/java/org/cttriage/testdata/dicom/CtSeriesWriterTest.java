package org.cttriage.testdata.dicom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.cttriage.testdata.dicom.SeriesWriteOptions.Layout;
import org.cttriage.testdata.dicom.SeriesWriteOptions.TransferSyntaxOption;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.Phantom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CtSeriesWriterTest {
    @TempDir
    Path dir;

    @Test
    void sameSeedGivesByteIdenticalFiles() throws Exception {
        for (SeriesWriteOptions o : List.of(SeriesWriteOptions.defaults(),
                SeriesWriteOptions.defaults().withTransferSyntax(TransferSyntaxOption.RLE),
                SeriesWriteOptions.defaults().withLayout(Layout.ENHANCED_MULTI_FRAME))) {
            CtSeriesWriter.WrittenSeries a = new CtSeriesWriter().write(PhantomSeries.small(5), o, dir.resolve("a" + o.hashCode()));
            CtSeriesWriter.WrittenSeries b = new CtSeriesWriter().write(PhantomSeries.small(5), o, dir.resolve("b" + o.hashCode()));
            assertThat(a.files()).hasSameSizeAs(b.files());
            for (int i = 0; i < a.files().size(); i++) {
                assertThat(Files.readAllBytes(a.files().get(i))).isEqualTo(Files.readAllBytes(b.files().get(i)));
            }
        }
    }

    @Test
    void uidsAreUniqueAndStudyIsShared() throws Exception {
        Phantom p = PhantomSeries.small(6);
        CtSeriesWriter.WrittenSeries one = new CtSeriesWriter().write(p, SeriesWriteOptions.defaults(), dir);
        CtSeriesWriter.WrittenSeries two = new CtSeriesWriter().write(p,
                SeriesWriteOptions.defaults().withSeries(2, "second", "LUNG"), dir);
        assertThat(one.studyInstanceUid()).isEqualTo(two.studyInstanceUid());
        assertThat(one.seriesInstanceUid()).isNotEqualTo(two.seriesInstanceUid());
        Set<String> sops = new HashSet<>();
        for (Path f : Files.list(dir).toList()) {
            AttributeList l = new AttributeList();
            l.read(f.toFile());
            String uid = Attribute.getSingleStringValueOrEmptyString(l, TagFromName.SOPInstanceUID);
            assertThat(uid).matches("2\\.25\\.\\d+").hasSizeLessThanOrEqualTo(64);
            assertThat(sops.add(uid)).isTrue();
        }
        assertThat(sops).hasSize(24);
        assertThat(CtSeriesWriter.studyUid(6)).isNotEqualTo(CtSeriesWriter.studyUid(7));
    }

    @Test
    void nonAsciiPatientNameSetsUtf8CharacterSet() throws Exception {
        CtSeriesWriter.WrittenSeries s = new CtSeriesWriter().write(PhantomSeries.small(8),
                SeriesWriteOptions.defaults().withPatientName("Müller^Zoë"), dir);
        AttributeList l = new AttributeList();
        l.read(s.files().get(0).toFile());
        assertThat(Attribute.getSingleStringValueOrEmptyString(l, TagFromName.SpecificCharacterSet)).isEqualTo("ISO_IR 192");
        assertThat(Attribute.getSingleStringValueOrEmptyString(l, TagFromName.PatientName)).isEqualTo("Müller^Zoë");
    }

    @Test
    void rleFramesDecodeToTheStoredValues() throws Exception {
        Phantom p = PhantomSeries.small(9);
        CtSeriesWriter.WrittenSeries s = new CtSeriesWriter().write(p,
                SeriesWriteOptions.defaults().withTransferSyntax(TransferSyntaxOption.RLE), dir);
        AttributeList l = new AttributeList();
        l.read(s.files().get(3).toFile()); // PixelMed decodes RLE on read
        short[] decoded = l.get(TagFromName.PixelData).getShortValues();
        short[] expected = CtSeriesWriter.stored(p.hu(), 3 * 64 * 64, 64 * 64, SeriesWriteOptions.defaults());
        assertThat(decoded).containsExactly(expected);
    }

    @Test
    void enhancedWithContrastIsRefusedClearly() {
        Phantom p = PhantomSeries.small(10, ContrastPhase.PORTAL_VENOUS, Set.of());
        assertThatThrownBy(() -> new CtSeriesWriter().write(p,
                SeriesWriteOptions.defaults().withLayout(Layout.ENHANCED_MULTI_FRAME), dir))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("without contrast");
    }

    @Test
    void decimalStringsFitSixteenCharacters() {
        assertThat(CtSeriesWriter.ds(-199.21875)).isEqualTo("-199.21875");
        assertThat(CtSeriesWriter.ds(0.0)).isEqualTo("0");
        assertThat(CtSeriesWriter.ds(-0.0)).isEqualTo("0");
        assertThat(CtSeriesWriter.ds(1234567.123456789).length()).isLessThanOrEqualTo(16);
    }
}
