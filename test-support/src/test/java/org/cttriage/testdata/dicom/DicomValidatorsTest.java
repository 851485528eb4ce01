package org.cttriage.testdata.dicom;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.cttriage.testdata.dicom.SeriesWriteOptions.Layout;
import org.cttriage.testdata.dicom.SeriesWriteOptions.PixelRepresentationOption;
import org.cttriage.testdata.dicom.SeriesWriteOptions.TransferSyntaxOption;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/** Every variant the generator writes passes dicom3tools' dciodvfy with zero errors and dcmtk's dcmdump. */
@RequiresTools({"dciodvfy", "dcmdump", "dcmcjpeg"})
class DicomValidatorsTest {
    @TempDir
    Path dir;

    static List<Arguments> variants() {
        List<Arguments> out = new ArrayList<>();
        for (TransferSyntaxOption ts : TransferSyntaxOption.values()) {
            for (PixelRepresentationOption pr : PixelRepresentationOption.values()) {
                out.add(Arguments.of(ts, pr, Layout.SINGLE_FRAME, ContrastPhase.PORTAL_VENOUS));
            }
            out.add(Arguments.of(ts, PixelRepresentationOption.UNSIGNED, Layout.ENHANCED_MULTI_FRAME, ContrastPhase.NONE));
        }
        out.add(Arguments.of(TransferSyntaxOption.EXPLICIT_LE, PixelRepresentationOption.SIGNED, Layout.SINGLE_FRAME,
                ContrastPhase.NONE));
        return out;
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("variants")
    void zeroErrors(TransferSyntaxOption ts, PixelRepresentationOption pr, Layout layout, ContrastPhase phase)
            throws Exception {
        Phantom p = PhantomSeries.small(31, phase, EnumSet.of(PhantomFinding.LIVER_CYST));
        CtSeriesWriter.WrittenSeries s = new CtSeriesWriter().write(p, SeriesWriteOptions.defaults()
                .withTransferSyntax(ts).withPixelRepresentation(pr).withLayout(layout).withPatientName("Ünal^Çağrı"), dir);
        // Checking a few files per series keeps the test quick; all slices are built by the same code.
        List<Path> files = s.files().size() > 3 ? List.of(s.files().get(0), s.files().get(s.files().size() / 2),
                s.files().get(s.files().size() - 1)) : s.files();
        for (Path f : files) {
            ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60), "dciodvfy", "-new", f.toString());
            List<String> errors = r.output().lines().filter(l -> l.startsWith("Error")).toList();
            assertThat(errors).as("dciodvfy errors for %s:%n%s", f.getFileName(), r.output()).isEmpty();
            ExternalCommand.Result dump = ExternalCommand.run(Duration.ofSeconds(60), "dcmdump", "+dc", f.toString());
            assertThat(dump.exitCode()).as(dump.output()).isZero();
            assertThat(dump.output()).contains("(0002,0010) UI =" + transferSyntaxName(ts));
        }
    }

    private static String transferSyntaxName(TransferSyntaxOption ts) {
        return switch (ts) {
            case IMPLICIT_LE -> "LittleEndianImplicit";
            case EXPLICIT_LE -> "LittleEndianExplicit";
            case RLE -> "RLELossless";
            case JPEG_LOSSLESS -> "JPEGLossless:Non-hierarchical-1stOrderPrediction";
        };
    }
}
