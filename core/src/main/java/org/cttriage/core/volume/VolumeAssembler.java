package org.cttriage.core.volume;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.cttriage.core.dicom.PixelDataReader;
import org.cttriage.core.dicom.PixelDataReader.FrameTarget;
import org.cttriage.core.dicom.SliceHeader;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * Builds the HU volume of a planned stack: one array for the whole volume, each file read
 * (in parallel) straight into its slices, missing slices filled by linear interpolation
 * between their neighbours. Peak memory is the volume plus one frame buffer per thread
 * for uncompressed data.
 */
public final class VolumeAssembler {
    private final PixelDataReader reader;

    public VolumeAssembler(AssemblyPolicy policy) {
        this.reader = new PixelDataReader(policy.paddingHu());
    }

    /** Assembles the volume of the selected series. */
    public Volume assemble(SeriesDecision decision, ExecutorService pool) throws TriageException {
        if (decision.plan() == null) {
            throw new TriageException(decision.code() == null ? ErrorCode.NO_ELIGIBLE_SERIES : decision.code(),
                    "series " + decision.seriesInstanceUid() + " cannot be assembled: " + decision.reason());
        }
        return assemble(decision.plan(), decision.phase(), pool);
    }

    /** Assembles the volume described by {@code plan}. */
    public Volume assemble(StackPlan plan, String phase, ExecutorService pool) throws TriageException {
        VolumeGeometry g = plan.geometry();
        int sliceVoxels = g.size()[0] * g.size()[1];
        short[] hu = new short[Math.toIntExact(g.voxelCount())];

        Map<Path, List<FrameTarget>> byFile = new LinkedHashMap<>();
        for (int s = 0; s < plan.slices().size(); s++) {
            SliceHeader h = plan.slices().get(s);
            byFile.computeIfAbsent(h.file(), f -> new ArrayList<>())
                    .add(new FrameTarget(h, hu, plan.indices()[s] * sliceVoxels));
        }
        List<Future<?>> futures = new ArrayList<>(byFile.size());
        for (Map.Entry<Path, List<FrameTarget>> e : byFile.entrySet()) {
            futures.add(pool.submit(() -> {
                reader.readFrames(e.getKey(), e.getValue());
                return null;
            }));
        }
        TriageException failure = null;
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TriageException(ErrorCode.PIXEL_DATA_CORRUPT, "interrupted while reading pixel data", e);
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof TriageException t ? t
                            : new TriageException(ErrorCode.PIXEL_DATA_CORRUPT, "reading pixel data failed: "
                                    + e.getCause(), e.getCause());
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        for (SliceGap gap : plan.gaps()) {
            interpolate(hu, sliceVoxels, gap.afterSlice(), gap.afterSlice() + gap.missingSlices() + 1);
        }
        String[] names = new String[g.size()[2]];
        SliceSource[] slices = new SliceSource[g.size()[2]];
        for (int s = 0; s < plan.slices().size(); s++) {
            SliceHeader h = plan.slices().get(s);
            names[plan.indices()[s]] = h.frameId();
            slices[plan.indices()[s]] = new SliceSource(h.sopClassUid(), h.sopInstanceUid(),
                    h.numberOfFrames() > 1 ? h.frameIndex() + 1 : 0);
        }
        HuPlausibility.check(hu, sliceVoxels, k -> names[k] == null ? "(interpolated, index " + k + ")" : names[k], pool);
        SliceHeader first = plan.slices().get(0);
        LinkedHashSet<String> sources = new LinkedHashSet<>();
        plan.slices().forEach(s -> sources.add(s.sopInstanceUid()));
        return new Volume(first.studyInstanceUid(), first.seriesInstanceUid(), phase, g, hu, plan.gaps(),
                List.copyOf(sources), Arrays.asList(slices));
    }

    /** Fills slices strictly between {@code below} and {@code above} linearly. */
    private static void interpolate(short[] hu, int sliceVoxels, int below, int above) {
        int span = above - below;
        int lo = below * sliceVoxels;
        int hi = above * sliceVoxels;
        for (int k = below + 1; k < above; k++) {
            double w = (double) (k - below) / span;
            int base = k * sliceVoxels;
            for (int v = 0; v < sliceVoxels; v++) {
                hu[base + v] = (short) Math.round(hu[lo + v] * (1 - w) + hu[hi + v] * w);
            }
        }
    }
}
