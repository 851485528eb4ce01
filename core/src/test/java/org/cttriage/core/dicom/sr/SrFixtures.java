package org.cttriage.core.dicom.sr;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.cttriage.core.dicom.DicomScanner;
import org.cttriage.core.dicom.SliceHeader;
import org.cttriage.core.domain.CodedConcept;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.domain.ModelIdentity;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;

/** A small generated series and triage results with chosen findings present. */
final class SrFixtures {
    static final String[][] CATALOG = {
        {"pulmonary_nodule", "lung", "SCT", "27925004", "Nodule", "routine"},
        {"emphysema", "lung", "99CTTRIAGE", "CTTR-EMPHYSEMA", "Emphysema", "routine"},
        {"pleural_effusion", "lung", "SCT", "60046008", "Pleural effusion", "urgent"},
        {"consolidation", "lung", "99CTTRIAGE", "CTTR-CONSOLID", "Consolidation", "urgent"},
        {"liver_cyst", "liver", "SCT", "367643001", "Cyst", "routine"},
        {"hepatic_steatosis", "liver", "99CTTRIAGE", "CTTR-STEATOSIS", "Hepatic steatosis", "routine"},
        {"liver_mass", "liver", "SCT", "4147007", "Mass", "urgent"},
        {"hepatomegaly", "liver", "SCT", "260376009", "Enlarged", "routine"},
        {"cholelithiasis", "gallbladder", "99CTTRIAGE", "CTTR-GALLSTONE", "Cholelithiasis", "routine"},
        {"renal_cyst", "kidney", "SCT", "367643001", "Cyst", "routine"},
        {"nephrolithiasis", "kidney", "SCT", "386103008", "Renal stone", "urgent"},
        {"hydronephrosis", "kidney", "SCT", "25322007", "Dilatation", "asap"},
        {"pancreatic_mass", "pancreas", "SCT", "4147007", "Mass", "asap"},
        {"splenomegaly", "spleen", "SCT", "260376009", "Enlarged", "routine"},
        {"aortic_calcification", "aorta", "99CTTRIAGE", "CTTR-AORTICCALC", "Aortic wall calcification", "routine"},
        {"aortic_aneurysm", "aorta", "SCT", "67362008", "Aortic aneurysm", "asap"},
    };
    static final Map<String, CodedConcept> ORGANS = Map.of(
            "lung", new CodedConcept("SCT", "39607008", "Lung"), "liver", new CodedConcept("SCT", "10200004", "Liver"),
            "gallbladder", new CodedConcept("SCT", "28231008", "Gallbladder"),
            "kidney", new CodedConcept("SCT", "64033007", "Kidney"), "pancreas", new CodedConcept("SCT", "15776009", "Pancreas"),
            "spleen", new CodedConcept("SCT", "78961009", "Spleen"), "aorta", new CodedConcept("SCT", "15825003", "Aorta"));
    static final ModelIdentity MODEL = new ModelIdentity("ctglip-ref", "1.0.0",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

    private SrFixtures() {
    }

    static List<SliceHeader> series(Path dir, String patientName, int slices) throws Exception {
        Phantom p = new PhantomGenerator().generate(new PhantomSpec(99, 64, 64, slices, 400.0 / 64, 10, 10,
                ContrastPhase.NONE, Set.of(), false));
        CtSeriesWriter.WrittenSeries s = new CtSeriesWriter().write(p, SeriesWriteOptions.defaults().withPatientName(patientName), dir);
        List<SliceHeader> out = new ArrayList<>();
        for (Path f : s.files()) {
            out.addAll(new DicomScanner().readSlices(f));
        }
        return out;
    }

    static TriageResult result(List<SliceHeader> slices, Set<String> present) {
        return result(slices.get(0).studyInstanceUid(), slices.get(0).seriesInstanceUid(),
                slices.stream().map(SliceHeader::sopInstanceUid).toList(), present);
    }

    /** A result of the series {@code source} describes. */
    static TriageResult result(SourceStudy source, Set<String> present) {
        return result(source.get("StudyInstanceUID"), source.seriesInstanceUid(),
                source.instances().stream().map(SourceStudy.ReferencedInstance::sopInstanceUid).toList(), present);
    }

    private static TriageResult result(String study, String series, List<String> instances, Set<String> present) {
        List<FindingResult> findings = new ArrayList<>();
        Priority priority = Priority.ROUTINE;
        for (String[] c : CATALOG) {
            boolean on = present.contains(c[0]);
            Priority sev = Priority.fromFhirCode(c[5]);
            findings.add(new FindingResult(c[0], c[1], new CodedConcept(c[2], c[3], c[4]), ORGANS.get(c[1]),
                    on ? 0.91 : 0.07, 0.5, !c[0].equals("emphysema"), on && !c[0].equals("emphysema"), sev));
            if (on) {
                priority = priority.max(sev);
            }
        }
        Map<String, Double> volumes = new LinkedHashMap<>();
        ORGANS.keySet().stream().sorted().forEach(o -> volumes.put(o, 100.0));
        return new TriageResult(study, series, instances, findings, volumes, priority, MODEL,
                Map.of("total", 1L));
    }
}
