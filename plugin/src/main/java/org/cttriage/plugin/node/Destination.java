package org.cttriage.plugin.node;

import java.util.Objects;
import java.util.Optional;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.dicom.net.TlsClientOptions;

/**
 * Where results go: a DICOM peer (the SR by C-STORE), the FHIR server (the bundle, and the priority as a Task or on
 * the order), the RIS (the priority as an HL7 v2 order change) or a UPS-RS server (a workitem per study).
 *
 * @param name the configured name (stable; the delivery ledger refers to it)
 * @param dicom the peer for a DICOM destination, null for FHIR and HL7
 * @param tls TLS to a DICOM destination; empty for plain TCP and for FHIR and HL7 (whose clients have their own)
 */
public record Destination(String name, RemoteAe dicom, Optional<TlsClientOptions> tls) {
    /** The name of the FHIR destination. */
    public static final String FHIR = "fhir";
    /** The name of the FHIR destination of the study's priority as a Task (fhir.priority-target=task). */
    public static final String FHIR_TASK = "fhir-task";
    /** The name of the FHIR destination that raises the order's priority (fhir.priority-target=service-request). */
    public static final String FHIR_SERVICE_REQUEST = "fhir-service-request";
    /** The name of the UPS-RS destination (a workitem per study on the Worklist Service, ups.url). */
    public static final String UPS = "ups";
    /** The name of the HL7 v2 destination (the RIS). */
    public static final String HL7 = "hl7";

    public Destination {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(tls, "tls");
        if (dicom == null && tls.isPresent()) {
            throw new IllegalArgumentException("TLS options are for DICOM destinations");
        }
    }

    public boolean isFhir() {
        return dicom == null && FHIR.equals(name);
    }

    public boolean isFhirTask() {
        return dicom == null && FHIR_TASK.equals(name);
    }

    public boolean isFhirServiceRequest() {
        return dicom == null && FHIR_SERVICE_REQUEST.equals(name);
    }

    public boolean isUps() {
        return dicom == null && UPS.equals(name);
    }

    public boolean isHl7() {
        return dicom == null && HL7.equals(name);
    }

    public boolean isDicom() {
        return dicom != null;
    }

    /** A DICOM destination over plain TCP. */
    public static Destination dicom(String name, RemoteAe peer) {
        return dicom(name, peer, Optional.empty());
    }

    /** A DICOM destination, over TLS when {@code tls} is present. */
    public static Destination dicom(String name, RemoteAe peer, Optional<TlsClientOptions> tls) {
        return new Destination(name, Objects.requireNonNull(peer, "peer"), tls);
    }

    public static Destination fhir() {
        return new Destination(FHIR, null, Optional.empty());
    }

    public static Destination fhirTask() {
        return new Destination(FHIR_TASK, null, Optional.empty());
    }

    public static Destination fhirServiceRequest() {
        return new Destination(FHIR_SERVICE_REQUEST, null, Optional.empty());
    }

    public static Destination ups() {
        return new Destination(UPS, null, Optional.empty());
    }

    public static Destination hl7() {
        return new Destination(HL7, null, Optional.empty());
    }
}
