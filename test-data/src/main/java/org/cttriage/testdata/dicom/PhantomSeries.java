package org.cttriage.testdata.dicom;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomFinding;
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

    /** A small phantom (64² × 12 slices of 10 mm) so that writer and validator tests stay fast. */
    public static Phantom small(long seed, ContrastPhase phase, Set<PhantomFinding> findings) {
        return new PhantomGenerator().generate(new PhantomSpec(seed, 64, 64, 12, 400.0 / 64, 10, 10, phase, findings,
                false));
    }

    /** {@link #small(long, ContrastPhase, Set)} without contrast or findings. */
    public static Phantom small(long seed) {
        return small(seed, ContrastPhase.NONE, Set.of());
    }
}
