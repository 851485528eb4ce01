package org.cttriage.plugin.cli;

import java.util.List;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomSpec;

/**
 * A phantom as the {@link Volume} the DICOM path would assemble from its files: slices
 * ordered from the feet up along +Z, origin at the lowest slice. Building training arrays
 * from exactly this shape of volume keeps them bit-identical to what inference computes
 * from the same phantom's DICOM files.
 */
final class PhantomVolumes {
    private PhantomVolumes() {
    }

    static Volume toVolume(Phantom p) {
        return new Volume("", "", "", geometry(p), flip(p.hu(), p.spec()), List.of(), List.of());
    }

    static byte[] labelsFromFeet(Phantom p) {
        PhantomSpec s = p.spec();
        int slice = s.rows() * s.columns();
        byte[] out = new byte[slice * s.slices()];
        for (int z = 0; z < s.slices(); z++) {
            System.arraycopy(p.organLabels(), z * slice, out, (s.slices() - 1 - z) * slice, slice);
        }
        return out;
    }

    static VolumeGeometry geometry(Phantom p) {
        PhantomSpec s = p.spec();
        return new VolumeGeometry(new int[] {s.columns(), s.rows(), s.slices()},
                new double[] {s.pixelSpacingMm(), s.pixelSpacingMm(), s.sliceSpacingMm()},
                p.sliceOrigin(s.slices() - 1), new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0);
    }

    private static short[] flip(short[] hu, PhantomSpec s) {
        int slice = s.rows() * s.columns();
        short[] out = new short[hu.length];
        for (int z = 0; z < s.slices(); z++) {
            System.arraycopy(hu, z * slice, out, (s.slices() - 1 - z) * slice, slice);
        }
        return out;
    }
}
