package org.cttriage.testdata.phantom;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * Ground truth for one inserted lesion. Findings made of several lesions (gallstones, kidney
 * stones, bilateral effusions) produce one entry per lesion; aortic calcification produces one
 * aggregate entry; diffuse findings one entry for the organ.
 *
 * @param finding     which finding
 * @param organ       its organ
 * @param side        "left", "right" or "" for unpaired/midline organs
 * @param centreLpsMm lesion centre in patient LPS millimetres (copied)
 * @param sizeMm      diameter; for diffuse findings the organ length (liver/spleen), the maximum
 *                    aortic diameter (aneurysm) or the affected region's extent (emphysema)
 * @param meanHu      intended mean attenuation of the lesion before noise and partial volume
 * @param description short human-readable text such as "6.2 mm solid nodule, right upper lobe"
 */
public record FindingTruth(PhantomFinding finding, Organ organ, String side, double[] centreLpsMm,
                           double sizeMm, double meanHu, String description) {

    public FindingTruth {
        Objects.requireNonNull(finding, "finding");
        Objects.requireNonNull(organ, "organ");
        Objects.requireNonNull(side, "side");
        Objects.requireNonNull(description, "description");
        if (centreLpsMm == null || centreLpsMm.length != 3) {
            throw new IllegalArgumentException("centreLpsMm must have 3 components");
        }
        centreLpsMm = centreLpsMm.clone();
    }

    /** A copy, so callers cannot alter the truth. */
    @Override
    public double[] centreLpsMm() {
        return centreLpsMm.clone();
    }

    // Arrays compare by identity in records; truth lists must compare by value for reproducibility checks.
    @Override
    public boolean equals(Object o) {
        return o instanceof FindingTruth t && finding == t.finding && organ == t.organ
                && side.equals(t.side) && Arrays.equals(centreLpsMm, t.centreLpsMm)
                && Double.compare(sizeMm, t.sizeMm) == 0 && Double.compare(meanHu, t.meanHu) == 0
                && description.equals(t.description);
    }

    @Override
    public int hashCode() {
        return Objects.hash(finding, organ, side, Arrays.hashCode(centreLpsMm), sizeMm, meanHu, description);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "FindingTruth[%s, %s, side=%s, centre=(%.1f, %.1f, %.1f), size=%.1f mm, %.0f HU, %s]",
                finding.id(), organ, side, centreLpsMm[0], centreLpsMm[1], centreLpsMm[2], sizeMm, meanHu, description);
    }
}
