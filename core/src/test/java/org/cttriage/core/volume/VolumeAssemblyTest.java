package org.cttriage.core.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.cttriage.core.volume.Fixtures.MATRIX;
import static org.cttriage.core.volume.Fixtures.SLICES;
import static org.cttriage.core.volume.Fixtures.SPACING;
import static org.cttriage.core.volume.Fixtures.built;
import static org.cttriage.core.volume.Fixtures.edit;
import static org.cttriage.core.volume.Fixtures.notBuilt;
import static org.cttriage.core.volume.Fixtures.phantomHuFromFeet;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DecimalStringAttribute;
import com.pixelmed.dicom.OtherWordAttribute;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.dicom.SeriesWriteOptions.Layout;
import org.cttriage.testdata.dicom.SeriesWriteOptions.PixelRepresentationOption;
import org.cttriage.testdata.dicom.SeriesWriteOptions.TransferSyntaxOption;
import org.cttriage.testdata.phantom.Phantom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class VolumeAssemblyTest {
    static Phantom phantom;

    @TempDir
    Path dir;

    @BeforeAll
    static void generate() {
        phantom = Fixtures.phantom(11);
    }

    static List<Arguments> encodings() {
        List<Arguments> out = new ArrayList<>();
        for (TransferSyntaxOption ts : List.of(TransferSyntaxOption.IMPLICIT_LE, TransferSyntaxOption.EXPLICIT_LE,
                TransferSyntaxOption.RLE)) {
            for (PixelRepresentationOption pr : PixelRepresentationOption.values()) {
                for (Layout layout : Layout.values()) {
                    out.add(Arguments.of(ts, pr, layout));
                }
            }
        }
        return out;
    }

    /** Every encoding the generator writes without external tools gives back the phantom's HU exactly. */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("encodings")
    void huRoundTripsExactly(TransferSyntaxOption ts, PixelRepresentationOption pr, Layout layout) throws Exception {
        Fixtures.write(phantom, SeriesWriteOptions.defaults().withTransferSyntax(ts).withPixelRepresentation(pr)
                .withLayout(layout), dir);
        assertMatchesPhantom(built(Fixtures.builder().build(dir)), phantom);
    }

    static void assertMatchesPhantom(Volume v, Phantom p) {
        VolumeGeometry g = v.geometry();
        assertThat(g.size()).containsExactly(MATRIX, MATRIX, p.spec().slices());
        assertThat(g.spacing()[0]).isCloseTo(400.0 / MATRIX, org.assertj.core.data.Offset.offset(1e-4));
        assertThat(g.spacing()[2]).isCloseTo(p.spec().sliceSpacingMm(), org.assertj.core.data.Offset.offset(1e-4));
        // Slices go from the feet up (along the normal +Z); the phantom's slice 0 is the most superior.
        assertThat(g.sliceDirection()).containsExactly(0.0, 0.0, 1.0);
        double[] lowest = p.sliceOrigin(p.spec().slices() - 1);
        for (int a = 0; a < 3; a++) {
            assertThat(g.origin()[a]).isCloseTo(lowest[a], org.assertj.core.data.Offset.offset(1e-3));
        }
        int mismatches = 0;
        for (int k = 0; k < p.spec().slices(); k++) {
            for (int j = 0; j < MATRIX; j++) {
                for (int i = 0; i < MATRIX; i++) {
                    if (v.at(i, j, k) != phantomHuFromFeet(p, i, j, k)) {
                        mismatches++;
                    }
                }
            }
        }
        assertThat(mismatches).as("voxels differing from the phantom").isZero();
        assertThat(v.gaps()).isEmpty();
    }

    @Test
    void ordersByPositionNeverByInstanceNumberOrFileName() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom,
                SeriesWriteOptions.defaults().withInstanceNumbersDescending(true), dir.resolve("in"));
        List<Path> files = new ArrayList<>(s.files());
        Collections.shuffle(files, new Random(3));
        Path shuffled = Files.createDirectories(dir.resolve("shuffled"));
        for (int i = 0; i < files.size(); i++) {
            Files.move(files.get(i), shuffled.resolve(String.format("x%03d.dcm", i)));
        }
        assertMatchesPhantom(built(Fixtures.builder().build(shuffled)), phantom);
    }

    @Test
    void missingSliceIsReportedAndInterpolated() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        // File index 10 is phantom slice 10, which is slice SLICES-1-10 counted from the feet.
        Files.delete(s.files().get(10));
        Volume v = built(Fixtures.builder().build(dir));
        assertThat(v.geometry().size()[2]).isEqualTo(SLICES);
        assertThat(v.gaps()).hasSize(1);
        SliceGap gap = v.gaps().get(0);
        int missing = SLICES - 1 - 10;
        assertThat(gap.missingSlices()).isEqualTo(1);
        assertThat(gap.afterSlice()).isEqualTo(missing - 1);
        int i = MATRIX / 2;
        int j = MATRIX / 2;
        int expected = Math.round((phantomHuFromFeet(phantom, i, j, missing - 1) + phantomHuFromFeet(phantom, i, j, missing + 1)) / 2.0f);
        assertThat((int) v.at(i, j, missing)).isBetween(expected - 1, expected + 1);
        assertThat(v.at(i, j, missing + 1)).isEqualTo(phantomHuFromFeet(phantom, i, j, missing + 1));
    }

    @Test
    void gapLargerThanPolicyIsRejectedWithReason() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        for (int z = 8; z < 11; z++) {
            Files.delete(s.files().get(z));
        }
        var e = notBuilt(Fixtures.builder().build(dir));
        assertThat(e.getMessage()).contains(ErrorCode.GAP_TOO_LARGE.code()).contains("3 slices missing");
        // The same series is accepted when the policy allows three missing slices.
        Volume v = built(Fixtures.builder(SelectionPolicy.defaults(),
                AssemblyPolicy.defaults().withMaxMissingSlicesPerGap(3)).build(dir));
        assertThat(v.gaps()).singleElement().extracting(SliceGap::missingSlices).isEqualTo(3);
    }

    @Test
    void nonUniformSpacingIsRejected() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        shiftZ(s.files().get(5), 0.4 * SPACING);
        var e = notBuilt(Fixtures.builder().build(dir));
        assertThat(e.getMessage()).contains(ErrorCode.NON_UNIFORM_SPACING.code()).contains("not a multiple");
    }

    @Test
    void spacingJitterWithinToleranceIsAccepted() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        shiftZ(s.files().get(5), 0.03 * SPACING);
        shiftZ(s.files().get(12), -0.03 * SPACING);
        Volume v = built(Fixtures.builder().build(dir));
        assertThat(v.geometry().size()[2]).isEqualTo(SLICES);
        assertThat(v.gaps()).isEmpty();
    }

    @Test
    void perSliceRescaleIsHonoured() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        // Re-encode one slice with slope 0.5 / intercept -1024: stored = 2 × (HU + 1024).
        edit(s.files().get(7), list -> {
            short[] stored = list.get(TagFromName.PixelData).getShortValues();
            for (int i = 0; i < stored.length; i++) {
                stored[i] = (short) (stored[i] * 2);
            }
            OtherWordAttribute pd = new OtherWordAttribute(TagFromName.PixelData);
            pd.setValues(stored);
            list.put(pd);
            set(list, TagFromName.BitsStored, "16");
            set(list, TagFromName.HighBit, "15");
            set(list, TagFromName.RescaleSlope, "0.5");
            set(list, TagFromName.RescaleIntercept, "-1024");
        });
        assertMatchesPhantom(built(Fixtures.builder().build(dir)), phantom);
    }

    @Test
    void pixelPaddingBecomesAir() throws Exception {
        SeriesWriteOptions signed = SeriesWriteOptions.defaults().withPixelRepresentation(PixelRepresentationOption.SIGNED);
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, signed, dir);
        edit(s.files().get(0), list -> {
            short[] stored = list.get(TagFromName.PixelData).getShortValues();
            for (int i = 0; i < MATRIX; i++) {
                stored[i] = -2000; // first row marked as padding
            }
            OtherWordAttribute pd = new OtherWordAttribute(TagFromName.PixelData);
            pd.setValues(stored);
            list.put(pd);
            com.pixelmed.dicom.SignedShortAttribute pad = new com.pixelmed.dicom.SignedShortAttribute(TagFromName.PixelPaddingValue);
            pad.addValue(-2000);
            list.put(pad);
        });
        Volume v = built(Fixtures.builder().build(dir));
        int top = SLICES - 1; // file 0 is the most superior slice
        for (int i = 0; i < MATRIX; i++) {
            assertThat(v.at(i, 0, top)).isEqualTo((short) -1024);
        }
        assertThat(v.at(MATRIX / 2, MATRIX / 2, top)).isEqualTo(phantomHuFromFeet(phantom, MATRIX / 2, MATRIX / 2, top));
    }

    @Test
    void gantryTiltIsKeptAsShearedStackOrRejected() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        double t = Math.toRadians(15);
        for (Path f : s.files()) {
            edit(f, list -> {
                Attribute iop = new DecimalStringAttribute(TagFromName.ImageOrientationPatient);
                for (double x : new double[] {1, 0, 0, 0, Math.cos(t), -Math.sin(t)}) {
                    iop.addValue(x);
                }
                list.put(iop);
            });
        }
        Volume v = built(Fixtures.builder().build(dir));
        assertThat(v.geometry().gantryTiltDegrees()).isCloseTo(15.0, org.assertj.core.data.Offset.offset(0.01));
        assertThat(v.geometry().sliceDirection()[2]).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(v.geometry().spacing()[2]).isCloseTo(SPACING, org.assertj.core.data.Offset.offset(1e-6));
        // The stack keeps the true position of every slice: the last one is where the file says.
        double[] top = v.geometry().positionOf(0, 0, SLICES - 1);
        assertThat(top[2]).isCloseTo(phantom.sliceOrigin(0)[2], org.assertj.core.data.Offset.offset(1e-3));

        var e = notBuilt(Fixtures.builder(SelectionPolicy.defaults(),
                AssemblyPolicy.defaults().withGantryTilt(AssemblyPolicy.GantryTiltPolicy.REJECT)).build(dir));
        assertThat(e.getMessage()).contains(ErrorCode.GANTRY_TILT.code()).contains("15.00°");
    }

    @Test
    void mixedMatrixSizesAreRejected() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        edit(s.files().get(3), list -> {
            OtherWordAttribute pd = new OtherWordAttribute(TagFromName.PixelData);
            pd.setValues(new short[32 * 32]);
            list.put(pd);
            set(list, TagFromName.Rows, "32");
            set(list, TagFromName.Columns, "32");
        });
        var e = notBuilt(Fixtures.builder().build(dir));
        assertThat(e.getMessage()).contains(ErrorCode.MIXED_MATRIX.code()).contains("32×32");
    }

    @Test
    void truncatedSliceIsNotUsedAndLeavesAGap() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        Path f = s.files().get(6);
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length - 1000));
        StudyVolumeBuilder.Outcome outcome = Fixtures.builder().build(dir);
        Volume v = built(outcome);
        assertThat(outcome.report().rejectedFiles()).singleElement().satisfies(r -> {
            assertThat(r.code()).isEqualTo(ErrorCode.PIXEL_DATA_CORRUPT);
            assertThat(r.reason()).contains("truncated");
        });
        assertThat(v.gaps()).hasSize(1);
    }

    static void shiftZ(Path file, double mm) throws Exception {
        edit(file, list -> {
            double[] p = Attribute.getDoubleValues(list, TagFromName.ImagePositionPatient);
            Attribute ipp = new DecimalStringAttribute(TagFromName.ImagePositionPatient);
            ipp.addValue(p[0]);
            ipp.addValue(p[1]);
            ipp.addValue(p[2] + mm);
            list.put(ipp);
        });
    }

    static void set(AttributeList list, com.pixelmed.dicom.AttributeTag tag, String value) throws com.pixelmed.dicom.DicomException {
        Attribute a = list.putNewAttribute(tag);
        a.addValue(value);
    }
}
