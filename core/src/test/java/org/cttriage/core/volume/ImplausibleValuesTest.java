package org.cttriage.core.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.cttriage.core.volume.VolumeAssemblyTest.set;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.DecimalStringAttribute;
import com.pixelmed.dicom.OtherWordAttribute;
import com.pixelmed.dicom.TagFromName;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.cttriage.core.dicom.DicomScanner;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.phantom.Phantom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue "Hardening", defects 1 and 6: header values the volume depends on, and pixel values,
 * outside what CT can have are refused with a coded reason instead of becoming a confident
 * result. Before these checks, a Rescale Slope of NaN, 1e6 or 10 built a volume and the node
 * sent an urgent SR with findings "Present".
 */
class ImplausibleValuesTest {
    static Phantom phantom;

    @TempDir
    Path dir;

    @BeforeAll
    static void generate() {
        phantom = Fixtures.phantom(11);
    }

    static Stream<Arguments> implausibleHeaders() {
        return Stream.of(
                Arguments.of("slope NaN", (Fixtures.Edit) l -> set(l, TagFromName.RescaleSlope, "NaN"), "Rescale Slope"),
                Arguments.of("slope infinite", (Fixtures.Edit) l -> set(l, TagFromName.RescaleSlope, "Infinity"),
                        "Rescale Slope"),
                Arguments.of("slope zero", (Fixtures.Edit) l -> set(l, TagFromName.RescaleSlope, "0"), "Rescale Slope"),
                Arguments.of("slope negative", (Fixtures.Edit) l -> set(l, TagFromName.RescaleSlope, "-1"),
                        "Rescale Slope"),
                Arguments.of("slope 1e6", (Fixtures.Edit) l -> set(l, TagFromName.RescaleSlope, "1e6"), "beyond any CT scale"),
                Arguments.of("slope 0.01", (Fixtures.Edit) l -> set(l, TagFromName.RescaleSlope, "0.01"),
                        "cannot hold both air"),
                Arguments.of("intercept NaN", (Fixtures.Edit) l -> set(l, TagFromName.RescaleIntercept, "NaN"),
                        "Rescale Intercept"),
                Arguments.of("intercept +5000", (Fixtures.Edit) l -> set(l, TagFromName.RescaleIntercept, "5000"),
                        "cannot hold both air"),
                Arguments.of("pixel spacing zero", (Fixtures.Edit) l -> {
                    Attribute a = new DecimalStringAttribute(TagFromName.PixelSpacing);
                    a.addValue(0.0);
                    a.addValue(0.0);
                    l.put(a);
                }, "Pixel Spacing"),
                Arguments.of("position NaN", (Fixtures.Edit) l -> {
                    Attribute a = new DecimalStringAttribute(TagFromName.ImagePositionPatient);
                    a.addValue("NaN");
                    a.addValue("0");
                    a.addValue("0");
                    l.put(a);
                }, "Image Position"),
                Arguments.of("position 1e9 mm", (Fixtures.Edit) l -> {
                    Attribute a = new DecimalStringAttribute(TagFromName.ImagePositionPatient);
                    a.addValue(0.0);
                    a.addValue(0.0);
                    a.addValue(1e9);
                    l.put(a);
                }, "Image Position"),
                Arguments.of("orientation degenerate", (Fixtures.Edit) l -> {
                    Attribute a = new DecimalStringAttribute(TagFromName.ImageOrientationPatient);
                    for (double v : new double[] {1, 0, 0, 1, 0, 0}) {
                        a.addValue(v);
                    }
                    l.put(a);
                }, "orthogonal unit vectors"),
                Arguments.of("slice thickness negative", (Fixtures.Edit) l -> set(l, TagFromName.SliceThickness, "-5"),
                        "Slice Thickness"),
                Arguments.of("bits stored above bits allocated", (Fixtures.Edit) l -> {
                    set(l, TagFromName.BitsStored, "20");
                    set(l, TagFromName.HighBit, "19");
                }, "Bits Stored"),
                Arguments.of("high bit not bits stored - 1", (Fixtures.Edit) l -> set(l, TagFromName.HighBit, "15"),
                        "High Bit"),
                Arguments.of("pixel representation 2", (Fixtures.Edit) l -> set(l, TagFromName.PixelRepresentation,
                        "2"), "Pixel Representation"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implausibleHeaders")
    void implausibleHeaderValueIsRefusedWithItsName(String name, Fixtures.Edit edit, String named) throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        Path file = s.files().get(5);
        Fixtures.edit(file, edit);
        assertThatThrownBy(() -> new DicomScanner().readSlices(file))
                .isInstanceOfSatisfying(TriageException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.IMPLAUSIBLE_HEADER_VALUE);
                    assertThat(e.reason()).contains(named);
                });
        // Offline, the file is listed as rejected with that reason, and the rest still builds.
        StudyVolumeBuilder.Outcome outcome = Fixtures.builder().build(dir);
        assertThat(outcome.report().rejectedFiles()).singleElement()
                .satisfies(r -> assertThat(r.code()).isEqualTo(ErrorCode.IMPLAUSIBLE_HEADER_VALUE));
    }

    @Test
    void theUsualHeadersPass() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        assertThat(new DicomScanner().readSlices(s.files().get(0))).hasSize(1);
        assertThat(Fixtures.builder().build(dir).report().rejectedFiles()).isEmpty();
    }

    @Test
    void pixelDataLongerThanTheHeaderSaysIsRefused() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        Path file = s.files().get(5);
        Fixtures.edit(file, l -> {
            OtherWordAttribute pd = new OtherWordAttribute(TagFromName.PixelData);
            pd.setValues(new short[Fixtures.MATRIX * Fixtures.MATRIX * 2]);
            l.put(pd);
        });
        assertThatThrownBy(() -> new DicomScanner().readSlices(file))
                .isInstanceOfSatisfying(TriageException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.PIXEL_DATA_CORRUPT);
                    assertThat(e.reason()).contains("does not describe these pixels");
                });
    }

    @Test
    void bitsAllocatedInconsistentWithTheDataIsRefused() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        Path file = s.files().get(5);
        Fixtures.edit(file, l -> {
            set(l, TagFromName.BitsAllocated, "8");
            set(l, TagFromName.BitsStored, "8");
            set(l, TagFromName.HighBit, "7");
        });
        assertThatThrownBy(() -> new DicomScanner().readSlices(file))
                .isInstanceOfSatisfying(TriageException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.PIXEL_DATA_CORRUPT);
                    assertThat(e.reason()).contains("does not describe these pixels");
                });
    }

    @Test
    void nativePixelDataWithUndefinedLengthIsRefused() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        Path file = s.files().get(5);
        byte[] bytes = Files.readAllBytes(file);
        // Explicit VR little endian: (7FE0,0010) OW 0000 <length>; overwrite the length.
        int at = indexOf(bytes, new byte[] {(byte) 0xE0, 0x7F, 0x10, 0x00, 'O', 'W', 0, 0});
        assertThat(at).isPositive();
        ByteBuffer.wrap(bytes, at + 8, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(-1);
        Files.write(file, bytes);
        assertThatThrownBy(() -> new DicomScanner().readSlices(file))
                .isInstanceOfSatisfying(TriageException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.PIXEL_DATA_CORRUPT);
                    assertThat(e.reason()).contains("undefined length");
                });
    }

    /** Slope 10 with 12 stored bits passes the header's range check, but turns soft tissue into 9000 HU. */
    @Test
    void plausibleHeaderOverPixelsItDoesNotFitIsNotBuilt() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        for (Path f : s.files()) {
            Fixtures.edit(f, l -> set(l, TagFromName.RescaleSlope, "10"));
        }
        TriageException e = Fixtures.notBuilt(Fixtures.builder().build(dir));
        assertThat(e.errorCode()).isEqualTo(ErrorCode.IMPLAUSIBLE_HU);
        assertThat(e.reason()).contains("above 3071 HU");
    }

    @Test
    void garbagePixelsAreNotBuilt() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        Random random = new Random(7);
        for (Path f : s.files()) {
            Fixtures.edit(f, l -> {
                // Random 16-bit signed values under a valid 16-bit signed header.
                set(l, TagFromName.BitsStored, "16");
                set(l, TagFromName.HighBit, "15");
                set(l, TagFromName.PixelRepresentation, "1");
                set(l, TagFromName.RescaleIntercept, "0");
                short[] noise = new short[Fixtures.MATRIX * Fixtures.MATRIX];
                for (int i = 0; i < noise.length; i++) {
                    noise[i] = (short) random.nextInt(65536);
                }
                OtherWordAttribute pd = new OtherWordAttribute(TagFromName.PixelData);
                pd.setValues(noise);
                l.put(pd);
            });
        }
        TriageException e = Fixtures.notBuilt(Fixtures.builder().build(dir));
        assertThat(e.errorCode()).isEqualTo(ErrorCode.IMPLAUSIBLE_HU);
    }

    @Test
    void oneImplausibleSliceAmongGoodOnesStopsTheVolume() throws Exception {
        CtSeriesWriter.WrittenSeries s = Fixtures.write(phantom, dir);
        List<Path> files = s.files();
        Fixtures.edit(files.get(10), l -> set(l, TagFromName.RescaleIntercept, "-3000"));
        TriageException e = Fixtures.notBuilt(Fixtures.builder().build(dir));
        assertThat(e.errorCode()).isEqualTo(ErrorCode.IMPLAUSIBLE_HU);
        assertThat(e.reason()).contains("below -1100 HU");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
