package org.cttriage.core.volume;

import static org.cttriage.core.volume.Fixtures.built;

import java.nio.file.Path;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.dicom.SeriesWriteOptions.Layout;
import org.cttriage.testdata.dicom.SeriesWriteOptions.PixelRepresentationOption;
import org.cttriage.testdata.dicom.SeriesWriteOptions.TransferSyntaxOption;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.phantom.Phantom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** JPEG Lossless written by dcmtk (a real peer's encoder) is decoded to the exact HU values. */
@RequiresTools("dcmcjpeg")
class JpegLosslessTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"UNSIGNED, SINGLE_FRAME", "SIGNED, SINGLE_FRAME", "UNSIGNED, ENHANCED_MULTI_FRAME"})
    void roundTripsExactly(PixelRepresentationOption pr, Layout layout) throws Exception {
        Phantom p = Fixtures.phantom(41);
        Fixtures.write(p, SeriesWriteOptions.defaults().withTransferSyntax(TransferSyntaxOption.JPEG_LOSSLESS)
                .withPixelRepresentation(pr).withLayout(layout), dir);
        VolumeAssemblyTest.assertMatchesPhantom(built(Fixtures.builder().build(dir)), p);
    }
}
