package org.cttriage.plugin.node;

import java.util.Map;
import org.cttriage.core.node.NodeObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The troubleshooting switch {@code log.patient-data=true}: one line per result naming its patient (ID and issuer,
 * name, birth date) and accession number, so that an operator can match a study in the log with the PACS. Off by
 * default: the operational log carries study and series UIDs, never patient data (STYLE.md). Its own logger
 * ({@code org.cttriage.patientdata}) so that it can be routed or silenced separately.
 */
public final class PatientDataLog implements NodeObserver {
    private static final Logger LOG = LoggerFactory.getLogger("org.cttriage.patientdata");

    @Override
    public void triaged(Triaged event) {
        Map<String, String> s = event.source();
        LOG.info("study {} (result {}): patient ID {}{}, name {}, birth date {}, accession number {}",
                event.series().studyInstanceUid(), event.resultId(), value(s, "PatientID"),
                s.getOrDefault("IssuerOfPatientID", "").isEmpty() ? "" : " (" + s.get("IssuerOfPatientID") + ")",
                value(s, "PatientName"), value(s, "PatientBirthDate"), value(s, "AccessionNumber"));
    }

    private static String value(Map<String, String> source, String keyword) {
        String v = source.get(keyword);
        return v == null || v.isEmpty() ? "(none)" : v;
    }
}
