package org.cttriage.core.volume;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real-world DICOM oddities from Debian's python3-pydicom: each file either loads or is
 * refused with a code and a reason; nothing throws.
 */
@RequiresTools(PydicomTestFilesTest.TEST_FILES)
class PydicomTestFilesTest {
    static final String TEST_FILES = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

    @TempDir
    Path dir;

    static Stream<String> files() throws IOException {
        Path root = Path.of(TEST_FILES);
        if (!Files.isDirectory(root)) {
            return Stream.of("(pydicom test files missing)");
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList().stream();
        }
    }

    private StudyVolumeBuilder.Outcome buildOne(String name, SelectionPolicy policy) throws IOException {
        Path folder = Files.createDirectories(dir.resolve("one"));
        Files.copy(Path.of(TEST_FILES, name), folder.resolve(name));
        return new StudyVolumeBuilder(policy, AssemblyPolicy.defaults(), Fixtures.POOL).build(folder);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("files")
    void eachFileLoadsOrIsRefusedWithAReason(String name) throws IOException {
        StudyVolumeBuilder.Outcome o = buildOne(name, SelectionPolicy.defaults().withMinimumSlices(1));
        if (o instanceof StudyVolumeBuilder.Built b) {
            assertThat(b.volume().hu()).isNotEmpty();
            assertThat(b.report().selected()).isPresent();
        } else {
            TriageException e = ((StudyVolumeBuilder.NotBuilt) o).reason();
            assertThat(e.getMessage()).matches("TRIAGE-\\d{4} .+");
            // Every reason below the summary is explained too: per series or per file.
            o.report().decisions().forEach(d -> assertThat(d.reason()).isNotBlank());
            o.report().rejectedFiles().forEach(r -> assertThat(r.reason()).isNotBlank());
            assertThat(o.report().decisions().size() + o.report().rejectedFiles().size()).isPositive();
        }
    }

    @Test
    void ctSmallLoadsAsOneSliceVolume() throws IOException {
        StudyVolumeBuilder.Outcome o = buildOne("CT_small.dcm", SelectionPolicy.defaults().withMinimumSlices(1));
        Volume v = Fixtures.built(o);
        assertThat(v.geometry().size()).containsExactly(128, 128, 1);
        // Reference values from pydicom 2.3.1 (pixel_array × RescaleSlope + RescaleIntercept).
        assertThat(v.at(64, 64, 0)).isEqualTo((short) 904);
        assertThat(v.at(0, 0, 0)).isEqualTo((short) -849);
        assertThat(v.geometry().origin()).containsExactly(-158.135803, -179.035797, -75.699997);
    }

    @Test
    void ctSmallIsTooShortUnderTheDefaultPolicy() throws IOException {
        var o = buildOne("CT_small.dcm", SelectionPolicy.defaults());
        assertThat(o.report().decisions()).singleElement()
                .satisfies(d -> assertThat(d.code()).isEqualTo(ErrorCode.TOO_FEW_SLICES));
    }

    @Test
    void mrIsNotCt() throws IOException {
        for (String name : List.of("MR_small.dcm", "MR_small_bigendian.dcm", "MR_small_RLE.dcm")) {
            var o = buildOne(name, SelectionPolicy.defaults().withMinimumSlices(1));
            assertThat(o.report().decisions()).as(name).singleElement()
                    .satisfies(d -> assertThat(d.code()).isEqualTo(ErrorCode.NOT_CT));
            Files.delete(dir.resolve("one").resolve(name));
        }
    }

    @Test
    void truncatedFileIsRejectedWithReason() throws IOException {
        var o = buildOne("MR_truncated.dcm", SelectionPolicy.defaults().withMinimumSlices(1));
        assertThat(o.report().rejectedFiles()).singleElement()
                .satisfies(r -> assertThat(r.code()).isEqualTo(ErrorCode.PIXEL_DATA_CORRUPT));
    }

    @Test
    void nonDicomFilesAreUnreadable() throws IOException {
        for (String name : List.of("README.txt", "test1.json", "rtplan.dump")) {
            var o = buildOne(name, SelectionPolicy.defaults());
            assertThat(o.report().rejectedFiles()).as(name).singleElement()
                    .satisfies(r -> assertThat(r.code()).isEqualTo(ErrorCode.UNREADABLE_FILE));
            Files.delete(dir.resolve("one").resolve(name));
        }
    }

    @Test
    void compressionWeCannotDecodeLosslesslyIsRefused() throws IOException {
        var o = buildOne("693_J2KI.dcm", SelectionPolicy.defaults().withMinimumSlices(1));
        assertThat(o.report().decisions()).singleElement().satisfies(d -> {
            assertThat(d.code()).isEqualTo(ErrorCode.UNSUPPORTED_TRANSFER_SYNTAX);
            assertThat(d.reason()).contains("1.2.840.10008.1.2.4.91");
        });
    }

    @Test
    void nonImageObjectsAreRejectedAsNotImages() throws IOException {
        var o = buildOne("rtplan.dcm", SelectionPolicy.defaults());
        assertThat(o.report().rejectedFiles()).singleElement()
                .satisfies(r -> {
                    assertThat(r.code()).isEqualTo(ErrorCode.NOT_AN_IMAGE);
                    assertThat(r.reason()).contains("not an image");
                });
    }
}
