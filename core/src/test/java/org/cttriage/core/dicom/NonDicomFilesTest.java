package org.cttriage.core.dicom;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TransferSyntax;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue "Hardening", defect 8: a folder that also holds other files (the generator's .npy
 * arrays beside dicom/) was parsed byte by byte, minutes and tens of millions of log lines.
 * A file with neither the DICM prefix nor a plausible first element is now skipped unparsed,
 * with one reason; DICOM files, bare data sets (no preamble) included, are still read.
 */
class NonDicomFilesTest {
    private static final ExecutorService POOL = Executors.newFixedThreadPool(2);

    @TempDir
    Path dir;

    @AfterAll
    static void stop() {
        POOL.shutdownNow();
    }

    @Test
    void nonDicomFilesAreSkippedWithAReasonAndDicomOnesRead() throws Exception {
        var series = PhantomSeries.write(3, 64, 6, 10, dir.resolve("dicom"));
        Files.write(dir.resolve("labels.npy"), npy(200_000));
        byte[] noise = new byte[100_000];
        new Random(1).nextBytes(noise);
        noise[0] = 0x11; // not a DICOM group in either byte order
        Files.write(dir.resolve("noise.bin"), noise);
        Files.writeString(dir.resolve("truth.json"), "{\"seed\": 3}", StandardCharsets.UTF_8);
        Files.write(dir.resolve("tiny"), new byte[] {1, 2, 3});
        // The same image as a bare data set without preamble and meta information.
        AttributeList list = new AttributeList();
        list.read(series.files().get(0).toString());
        list.removeGroupLengthAttributes();
        list.removeMetaInformationHeaderAttributes();
        Path bare = dir.resolve("bare-dataset");
        list.write(bare.toFile(), TransferSyntax.ImplicitVRLittleEndian, false, true);

        ScanResult scan = new DicomScanner().scanFolder(dir, POOL);

        assertThat(scan.slices()).hasSize(7);
        assertThat(scan.slices()).anySatisfy(s -> assertThat(s.file()).isEqualTo(bare));
        assertThat(scan.rejected()).extracting(r -> r.file().getFileName().toString())
                .containsExactlyInAnyOrder("labels.npy", "noise.bin", "truth.json", "tiny");
        assertThat(scan.rejected()).allSatisfy(r -> {
            assertThat(r.code()).isEqualTo(ErrorCode.UNREADABLE_FILE);
            assertThat(r.reason()).startsWith("not DICOM");
        });
    }

    @Test
    void part10FilesAndBareDataSetsAreTakenAsPossiblyDicom() throws Exception {
        var series = PhantomSeries.write(3, 64, 2, 10, dir.resolve("dicom"));
        assertThat(DicomScanner.notDicom(series.files().get(0))).isNull();
        Path npy = dir.resolve("a.npy");
        Files.write(npy, npy(1000));
        assertThat(DicomScanner.notDicom(npy)).contains("no DICM prefix");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new DicomScanner().readSlices(npy))
                .hasMessageStartingWith(ErrorCode.UNREADABLE_FILE.code() + " not DICOM");
    }

    /** A NumPy .npy file: magic, version, header, data. */
    private static byte[] npy(int dataBytes) {
        byte[] header = "\u0093NUMPY\u0001\u0000v\u0000{'descr': '<i2', 'fortran_order': False, 'shape': (100,), }"
                .getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[header.length + dataBytes];
        System.arraycopy(header, 0, out, 0, header.length);
        return out;
    }
}
