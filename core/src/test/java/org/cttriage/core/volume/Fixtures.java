package org.cttriage.core.volume;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.TransferSyntax;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;

/** Small generated series and in-place header edits for volume tests. */
final class Fixtures {
    static final int MATRIX = 64;
    static final int SLICES = 24;
    static final double SPACING = 5.0;

    static final ExecutorService POOL = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "test-reader");
        t.setDaemon(true);
        return t;
    });

    private Fixtures() {
    }

    static Phantom phantom(long seed) {
        return phantom(seed, SLICES, SPACING);
    }

    static Phantom phantom(long seed, int slices, double spacing) {
        return new PhantomGenerator().generate(new PhantomSpec(seed, MATRIX, MATRIX, slices, 400.0 / MATRIX, spacing,
                spacing, ContrastPhase.NONE, Set.of(), false), POOL);
    }

    static CtSeriesWriter.WrittenSeries write(Phantom p, SeriesWriteOptions options, Path dir) throws IOException {
        return new CtSeriesWriter().write(p, options, dir);
    }

    static CtSeriesWriter.WrittenSeries write(Phantom p, Path dir) throws IOException {
        return write(p, SeriesWriteOptions.defaults(), dir);
    }

    /** Header edit callback. */
    interface Edit {
        void apply(AttributeList list) throws DicomException;
    }

    /** Rewrites {@code file} after applying {@code edit} (explicit VR little endian). */
    static void edit(Path file, Edit edit) throws IOException, DicomException {
        AttributeList list = new AttributeList();
        list.read(file.toFile());
        edit.apply(list);
        list.write(file.toFile(), TransferSyntax.ExplicitVRLittleEndian, true, true);
    }

    /** The phantom's HU at column i, row j of the slice that is {@code k}-th from the feet. */
    static short phantomHuFromFeet(Phantom p, int i, int j, int k) {
        int slices = p.spec().slices();
        return p.hu()[p.index(i, j, slices - 1 - k)];
    }

    static StudyVolumeBuilder builder() {
        return new StudyVolumeBuilder(SelectionPolicy.defaults(), AssemblyPolicy.defaults(), POOL);
    }

    static StudyVolumeBuilder builder(SelectionPolicy s, AssemblyPolicy a) {
        return new StudyVolumeBuilder(s, a, POOL);
    }

    static Volume built(StudyVolumeBuilder.Outcome outcome) {
        if (outcome instanceof StudyVolumeBuilder.Built b) {
            return b.volume();
        }
        throw new AssertionError("expected a volume, got " + ((StudyVolumeBuilder.NotBuilt) outcome).reason().getMessage());
    }

    static org.cttriage.core.error.TriageException notBuilt(StudyVolumeBuilder.Outcome outcome) {
        if (outcome instanceof StudyVolumeBuilder.NotBuilt n) {
            return n.reason();
        }
        throw new AssertionError("expected no volume, got one of " + ((StudyVolumeBuilder.Built) outcome).volume().seriesInstanceUid());
    }
}
