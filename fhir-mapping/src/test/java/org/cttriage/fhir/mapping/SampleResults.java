package org.cttriage.fhir.mapping;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.cttriage.core.domain.CodedConcept;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.domain.ModelIdentity;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.domain.TriageResult;

/** The triage result the mapping and delivery tests (and their golden files) are built from. */
public final class SampleResults {
    private SampleResults() {
    }

    /** One present finding (pleural effusion), two absent reportable ones and one not reportable. */
    public static TriageResult fourFindings() {
        CodedConcept lung = new CodedConcept("SCT", "39607008", "Lung");
        CodedConcept liver = new CodedConcept("SCT", "10200004", "Liver");
        List<FindingResult> f = new ArrayList<>();
        f.add(new FindingResult("pleural_effusion", "lung", new CodedConcept("SCT", "60046008", "Pleural effusion"), lung,
                0.93, 0.83, true, true, Priority.URGENT));
        f.add(new FindingResult("hepatomegaly", "liver", new CodedConcept("SCT", "260376009", "Enlarged"), liver,
                0.12, 0.41, true, false, Priority.ROUTINE));
        f.add(new FindingResult("hepatic_steatosis", "liver", new CodedConcept("99CTTRIAGE", "CTTR-STEATOSIS",
                "Hepatic steatosis"), liver, 0.2, 0.88, true, false, Priority.ROUTINE));
        f.add(new FindingResult("liver_cyst", "liver", new CodedConcept("SCT", "367643001", "Cyst"), liver,
                0.3, 0.13, false, false, Priority.ROUTINE));
        return new TriageResult("1.2.3.4", "1.2.3.4.5", List.of("1.2.3.4.5.1", "1.2.3.4.5.2"), f,
                Map.of("lung", 4000.0), Priority.URGENT,
                new ModelIdentity("ctglip-ref", "1.0.0", "ab".repeat(32)), Map.of("total", 100L));
    }
}
