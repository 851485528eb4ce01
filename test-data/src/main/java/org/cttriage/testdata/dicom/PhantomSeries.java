package org.cttriage.testdata.dicom;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;

/**
 * The small CT series the network and node tests send: a finding-free, non-contrast phantom
 * over a 400 mm field of view, written as single-frame CT Image files with default options.
 */
public final class PhantomSeries {
    private PhantomSeries() {
    }

    /** Writes the series of {@code seed} ({@code matrix}² pixels, {@code slices} slices) into {@code folder}. */
    public static CtSeriesWriter.WrittenSeries write(long seed, int matrix, int slices, double sliceSpacingMm,
            Path folder) throws IOException {
        PhantomSpec spec = new PhantomSpec(seed, matrix, matrix, slices, 400.0 / matrix, sliceSpacingMm,
                sliceSpacingMm, ContrastPhase.NONE, Set.of(), false);
        return new CtSeriesWriter().write(new PhantomGenerator().generate(spec), SeriesWriteOptions.defaults(), folder);
    }
}
