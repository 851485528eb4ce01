package org.cttriage.core.inference;

import java.util.List;
import org.cttriage.core.volume.SliceSource;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;
import org.cttriage.testdata.phantom.Phantom;

/** A generated phantom as the engine's input volume, without going through DICOM files. */
final class PhantomVolumes {
    private PhantomVolumes() {
    }

    /**
     * The phantom's voxels (generated feet first) as an axial volume whose slices run head first,
     * as assembled series are, with the given instance UIDs per slice and the slices received.
     */
    static Volume headFirst(Phantom p, int matrix, int slices, double pixelMm, double sliceMm,
                            List<String> instances, List<SliceSource> received) {
        short[] hu = new short[p.hu().length];
        int slice = matrix * matrix;
        for (int z = 0; z < slices; z++) {
            System.arraycopy(p.hu(), z * slice, hu, (slices - 1 - z) * slice, slice);
        }
        return new Volume("1.2.3", "1.2.3.4", "", new VolumeGeometry(new int[] {matrix, matrix, slices},
                new double[] {pixelMm, pixelMm, sliceMm}, p.sliceOrigin(slices - 1), new double[] {1, 0, 0},
                new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0), hu, List.of(), instances, received);
    }
}
