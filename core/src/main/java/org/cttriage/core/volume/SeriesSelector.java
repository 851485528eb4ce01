package org.cttriage.core.volume;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.cttriage.core.dicom.PixelDataReader;
import org.cttriage.core.dicom.ScanResult;
import org.cttriage.core.dicom.SliceHeader;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.volume.SeriesDecision.Verdict;

/**
 * Decides, for every series of a study, whether it qualifies for triage and which one is
 * preferred, giving a reason for each decision. Checks, in order: modality CT; a single
 * greyscale sample of 8 or 16 bits; a losslessly decodable transfer syntax; not a
 * localizer; ORIGINAL\PRIMARY; duplicate positions (split into phases or rejected); geometry
 * (see {@link StackAnalyzer}); axial within tolerance; minimum slice count. Among the series
 * that qualify the preferred one is the thinnest, then soft-tissue kernel, then the one with
 * the largest coverage, then the most slices (Series Instance UID breaks ties so the choice
 * is deterministic).
 */
public final class SeriesSelector {
    private final SelectionPolicy policy;
    private final StackAnalyzer analyzer;

    public SeriesSelector(SelectionPolicy selection, AssemblyPolicy assembly) {
        this.policy = selection;
        this.analyzer = new StackAnalyzer(assembly);
    }

    /** Decides on every series in {@code scan}. */
    public SelectionReport select(ScanResult scan) {
        Map<String, List<SliceHeader>> bySeries = new LinkedHashMap<>();
        for (SliceHeader s : scan.slices()) {
            bySeries.computeIfAbsent(s.seriesInstanceUid(), k -> new ArrayList<>()).add(s);
        }
        List<SeriesDecision> rejected = new ArrayList<>();
        List<SeriesDecision> qualified = new ArrayList<>();
        for (List<SliceHeader> series : bySeries.values()) {
            for (SeriesDecision d : decide(series)) {
                (d.verdict() == Verdict.REJECTED ? rejected : qualified).add(d);
            }
        }
        qualified.sort(preference());
        List<SeriesDecision> out = new ArrayList<>();
        for (int i = 0; i < qualified.size(); i++) {
            SeriesDecision d = qualified.get(i);
            if (i == 0) {
                String why = qualified.size() == 1 ? "the only qualifying series"
                        : "preferred among " + qualified.size() + " qualifying series";
                out.add(with(d, Verdict.SELECTED, null, why + "; " + d.reason()));
            } else {
                out.add(with(d, Verdict.NOT_PREFERRED, ErrorCode.NOT_PREFERRED,
                        "qualifies, but " + qualified.get(0).seriesInstanceUid() + " is preferred: "
                                + comparison(qualified.get(0), d)));
            }
        }
        out.addAll(rejected);
        return new SelectionReport(out, scan.rejected());
    }

    private List<SeriesDecision> decide(List<SliceHeader> series) {
        SliceHeader first = series.get(0);
        try {
            checkSeriesAttributes(series);
            List<SeriesCandidate> candidates = splitPhases(series);
            List<SeriesDecision> out = new ArrayList<>();
            for (SeriesCandidate c : candidates) {
                out.add(decideCandidate(c));
            }
            return out;
        } catch (TriageException e) {
            return List.of(decision(first, "", series.size(), Verdict.REJECTED, e.errorCode(), e.reason(), null));
        }
    }

    private SeriesDecision decideCandidate(SeriesCandidate c) {
        try {
            StackPlan plan = analyzer.plan(c.slices());
            double[] normal = StackAnalyzer.commonNormal(c.slices());
            double angle = Vectors.axisAngleDegrees(normal, new double[] {0, 0, 1});
            if (angle > policy.axialToleranceDegrees()) {
                throw new TriageException(ErrorCode.NOT_AXIAL, String.format(
                        "slice normal is %.1f° from the head-foot axis (axial tolerance %.1f°)",
                        angle, policy.axialToleranceDegrees()));
            }
            if (c.slices().size() < policy.minimumSlices()) {
                throw new TriageException(ErrorCode.TOO_FEW_SLICES, c.slices().size()
                        + " slices, the policy needs at least " + policy.minimumSlices());
            }
            return decision(c.first(), c.phase(), c.slices().size(), Verdict.NOT_PREFERRED, null,
                    summary(c, plan), plan);
        } catch (TriageException e) {
            return decision(c.first(), c.phase(), c.slices().size(), Verdict.REJECTED, e.errorCode(), e.reason(), null);
        }
    }

    private void checkSeriesAttributes(List<SliceHeader> series) throws TriageException {
        for (SliceHeader s : series) {
            if (!"CT".equals(s.modality())) {
                throw new TriageException(ErrorCode.NOT_CT, "modality is " + (s.modality().isEmpty() ? "absent" : s.modality()));
            }
        }
        for (SliceHeader s : series) {
            if (s.samplesPerPixel() != 1 || (s.bitsAllocated() != 8 && s.bitsAllocated() != 16)
                    || s.bitsStored() > s.bitsAllocated() || s.highBit() != s.bitsStored() - 1) {
                throw new TriageException(ErrorCode.UNSUPPORTED_PIXEL_FORMAT, String.format(
                        "slice %s has %d sample(s) per pixel, %d bits allocated, %d stored, high bit %d;"
                                + " a single greyscale sample of 8 or 16 bits with high bit = bits stored - 1 is needed",
                        s.frameId(), s.samplesPerPixel(), s.bitsAllocated(), s.bitsStored(), s.highBit()));
            }
            if (!PixelDataReader.DECODABLE_TRANSFER_SYNTAXES.contains(s.transferSyntaxUid())) {
                throw new TriageException(ErrorCode.UNSUPPORTED_TRANSFER_SYNTAX, "slice " + s.frameId()
                        + " uses transfer syntax " + s.transferSyntaxUid()
                        + ", which cannot be decoded losslessly here (supported: uncompressed, RLE, JPEG Lossless)");
            }
        }
        for (SliceHeader s : series) {
            if (s.isLocalizer()) {
                throw new TriageException(ErrorCode.LOCALIZER, "Image Type " + String.join("\\", s.imageType())
                        + " marks a localizer");
            }
        }
        if (policy.requireOriginalPrimary()) {
            for (SliceHeader s : series) {
                if (!s.isOriginalPrimary()) {
                    throw new TriageException(ErrorCode.NOT_ORIGINAL_PRIMARY, "Image Type is "
                            + (s.imageType().isEmpty() ? "absent" : String.join("\\", s.imageType()))
                            + " on " + s.frameId());
                }
            }
        }
    }

    /**
     * One candidate per phase when slices share positions and the policy splits; the phase
     * is told by {@link SliceHeader#phaseKey()}.
     */
    private List<SeriesCandidate> splitPhases(List<SliceHeader> series) throws TriageException {
        String uid = series.get(0).seriesInstanceUid();
        double[] normal = StackAnalyzer.commonNormal(series);
        TreeMap<Long, Integer> perPosition = new TreeMap<>();
        for (SliceHeader s : series) {
            perPosition.merge(Math.round(StackAnalyzer.along(s, normal) / StackAnalyzer.SAME_POSITION_MM), 1, Integer::sum);
        }
        int maxAtOnePosition = perPosition.values().stream().mapToInt(Integer::intValue).max().orElse(1);
        if (maxAtOnePosition == 1) {
            return List.of(new SeriesCandidate(uid, "", series));
        }
        if (policy.duplicatePositions() == SelectionPolicy.DuplicatePositionPolicy.REJECT) {
            throw new TriageException(ErrorCode.DUPLICATE_POSITIONS, "up to " + maxAtOnePosition
                    + " slices share one position (multi-phase?) and the policy rejects duplicate positions");
        }
        Map<String, List<SliceHeader>> phases = new TreeMap<>();
        for (SliceHeader s : series) {
            phases.computeIfAbsent(s.phaseKey(), k -> new ArrayList<>()).add(s);
        }
        if (phases.size() < 2) {
            throw new TriageException(ErrorCode.DUPLICATE_POSITIONS, "up to " + maxAtOnePosition
                    + " slices share one position and no Temporal Position, Acquisition Number or"
                    + " Acquisition Time tells them apart");
        }
        List<SeriesCandidate> out = new ArrayList<>();
        for (Map.Entry<String, List<SliceHeader>> e : phases.entrySet()) {
            out.add(new SeriesCandidate(uid, e.getKey().isEmpty() ? "no phase attribute" : e.getKey(), e.getValue()));
        }
        return out;
    }

    private String summary(SeriesCandidate c, StackPlan plan) {
        VolumeGeometry g = plan.geometry();
        return String.format("%d slices, %.2f mm thick, kernel %s (%s), coverage %.1f mm%s%s",
                c.slices().size(), thickness(plan), kernelOf(plan).isEmpty() ? "absent" : kernelOf(plan),
                policy.isSoftTissueKernel(kernelOf(plan)) ? "soft tissue" : "not soft tissue", coverage(plan),
                plan.gaps().isEmpty() ? "" : ", " + plan.gaps().stream().mapToInt(SliceGap::missingSlices).sum()
                        + " missing slice(s) to interpolate",
                g.gantryTiltDegrees() > 0 ? String.format(", gantry tilt %.1f°", g.gantryTiltDegrees()) : "");
    }

    private static double thickness(StackPlan p) {
        Double t = p.slices().get(0).sliceThickness();
        return t != null && t > 0 ? t : p.geometry().spacing()[2];
    }

    private static String kernelOf(StackPlan p) {
        return p.slices().get(0).convolutionKernel();
    }

    private static double coverage(StackPlan p) {
        VolumeGeometry g = p.geometry();
        return (g.size()[2] - 1) * g.spacing()[2] + thickness(p);
    }

    private Comparator<SeriesDecision> preference() {
        return Comparator.<SeriesDecision>comparingLong(d -> Math.round(thickness(d.plan()) * 100))
                .thenComparing(d -> !policy.isSoftTissueKernel(kernelOf(d.plan())))
                .thenComparing(d -> -Math.round(coverage(d.plan()) * 10))
                .thenComparing(d -> -d.slices())
                .thenComparing(SeriesDecision::seriesInstanceUid)
                .thenComparing(SeriesDecision::phase);
    }

    private String comparison(SeriesDecision best, SeriesDecision other) {
        double tb = thickness(best.plan());
        double to = thickness(other.plan());
        if (Math.round(tb * 100) != Math.round(to * 100)) {
            return String.format("thinner (%.2f mm vs %.2f mm)", tb, to);
        }
        boolean sb = policy.isSoftTissueKernel(kernelOf(best.plan()));
        boolean so = policy.isSoftTissueKernel(kernelOf(other.plan()));
        if (sb != so) {
            return "soft-tissue kernel (" + kernelOf(best.plan()) + " vs " + kernelOf(other.plan()) + ")";
        }
        double cb = coverage(best.plan());
        double co = coverage(other.plan());
        if (Math.round(cb * 10) != Math.round(co * 10)) {
            return String.format("larger coverage (%.1f mm vs %.1f mm)", cb, co);
        }
        if (best.slices() != other.slices()) {
            return "more slices (" + best.slices() + " vs " + other.slices() + ")";
        }
        return "equal by every criterion; the lower Series Instance UID / phase wins";
    }

    private static SeriesDecision decision(SliceHeader first, String phase, int slices, Verdict verdict, ErrorCode code,
                                           String reason, StackPlan plan) {
        return new SeriesDecision(first.seriesInstanceUid(), phase, first.seriesNumber(), first.seriesDescription(),
                first.modality(), slices, verdict, code, reason, plan);
    }

    private static SeriesDecision with(SeriesDecision d, Verdict verdict, ErrorCode code, String reason) {
        return new SeriesDecision(d.seriesInstanceUid(), d.phase(), d.seriesNumber(), d.description(), d.modality(),
                d.slices(), verdict, code, reason, d.plan());
    }
}
