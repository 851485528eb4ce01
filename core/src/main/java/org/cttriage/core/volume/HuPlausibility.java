package org.cttriage.core.volume;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * Whether an assembled volume's values are those of a CT of a patient. Header checks
 * ({@code HeaderPlausibility}) catch absurd rescale values; this catches what they cannot:
 * a plausible-looking rescale applied to pixels it does not fit, or garbage pixel data. A
 * model given such a volume still answers, confidently and wrongly, so the series must not
 * be triaged at all.
 *
 * <p>The limits leave room for everything real CT contains: metal and the extended CT scale
 * (a hip prosthesis is well under 1 % of a slice), the values scanners write outside the
 * reconstruction circle (-2048, -3024: at most 1 − π/4 ≈ 21.5 % of a slice), and slices
 * above or below the patient (air, about -1000 HU).
 * <ul>
 *   <li>per slice, at most {@value #MAX_SLICE_FRACTION_ABOVE} of the voxels above
 *       {@value #CT_SCALE_MAX_HU} HU;</li>
 *   <li>per slice, at most {@value #MAX_SLICE_FRACTION_BELOW} of the voxels below
 *       {@value #BELOW_AIR_HU} HU;</li>
 *   <li>in the whole volume, at least {@value #MIN_SOFT_TISSUE_FRACTION} of the voxels in the
 *       soft-tissue range {@value #SOFT_TISSUE_LOW_HU}…{@value #SOFT_TISSUE_HIGH_HU} HU.</li>
 * </ul>
 */
final class HuPlausibility {
    static final int CT_SCALE_MAX_HU = 3071;
    static final int BELOW_AIR_HU = -1100;
    static final int SOFT_TISSUE_LOW_HU = -200;
    static final int SOFT_TISSUE_HIGH_HU = 300;
    static final double MAX_SLICE_FRACTION_ABOVE = 0.10;
    static final double MAX_SLICE_FRACTION_BELOW = 0.60;
    static final double MIN_SOFT_TISSUE_FRACTION = 0.02;

    private HuPlausibility() {
    }

    private record SliceCounts(int above, int below, int softTissue) {
    }

    /**
     * Throws {@link ErrorCode#IMPLAUSIBLE_HU} when the volume fails a limit.
     *
     * @param hu the volume, slice by slice
     * @param sliceVoxels voxels per slice
     * @param sliceName names slice {@code k} in the message (its SOP Instance UID, never patient data)
     */
    static void check(short[] hu, int sliceVoxels, java.util.function.IntFunction<String> sliceName,
                      ExecutorService pool) throws TriageException {
        int slices = hu.length / sliceVoxels;
        List<Future<SliceCounts>> futures = new ArrayList<>(slices);
        for (int k = 0; k < slices; k++) {
            int base = k * sliceVoxels;
            futures.add(pool.submit(() -> count(hu, base, sliceVoxels)));
        }
        long softTissue = 0;
        for (int k = 0; k < slices; k++) {
            SliceCounts c;
            try {
                c = futures.get(k).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TriageException(ErrorCode.IMPLAUSIBLE_HU, "interrupted while checking values", e);
            } catch (ExecutionException e) {
                throw new TriageException(ErrorCode.IMPLAUSIBLE_HU, "checking values failed: " + e.getCause(), e);
            }
            if (c.above() > MAX_SLICE_FRACTION_ABOVE * sliceVoxels) {
                throw new TriageException(ErrorCode.IMPLAUSIBLE_HU, String.format(java.util.Locale.ROOT,
                        "%.0f %% of slice %s is above %d HU (at most %.0f %% allowed): its rescaled values are not CT",
                        100.0 * c.above() / sliceVoxels, sliceName.apply(k), CT_SCALE_MAX_HU,
                        100 * MAX_SLICE_FRACTION_ABOVE));
            }
            if (c.below() > MAX_SLICE_FRACTION_BELOW * sliceVoxels) {
                throw new TriageException(ErrorCode.IMPLAUSIBLE_HU, String.format(java.util.Locale.ROOT,
                        "%.0f %% of slice %s is below %d HU (at most %.0f %% allowed): its rescaled values are not CT",
                        100.0 * c.below() / sliceVoxels, sliceName.apply(k), BELOW_AIR_HU,
                        100 * MAX_SLICE_FRACTION_BELOW));
            }
            softTissue += c.softTissue();
        }
        if (softTissue < MIN_SOFT_TISSUE_FRACTION * hu.length) {
            throw new TriageException(ErrorCode.IMPLAUSIBLE_HU, String.format(java.util.Locale.ROOT,
                    "only %.2f %% of the volume is in the soft-tissue range %d…%d HU (at least %.0f %% expected):"
                            + " no patient body in these values", 100.0 * softTissue / hu.length, SOFT_TISSUE_LOW_HU,
                    SOFT_TISSUE_HIGH_HU, 100 * MIN_SOFT_TISSUE_FRACTION));
        }
    }

    private static SliceCounts count(short[] hu, int from, int length) {
        int above = 0;
        int below = 0;
        int soft = 0;
        for (int i = from, end = from + length; i < end; i++) {
            int v = hu[i];
            if (v > CT_SCALE_MAX_HU) {
                above++;
            } else if (v < BELOW_AIR_HU) {
                below++;
            } else if (v >= SOFT_TISSUE_LOW_HU && v <= SOFT_TISSUE_HIGH_HU) {
                soft++;
            }
        }
        return new SliceCounts(above, below, soft);
    }
}
