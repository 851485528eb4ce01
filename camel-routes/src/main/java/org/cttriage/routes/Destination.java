package org.cttriage.routes;

import java.util.Objects;
import org.cttriage.core.dicom.net.RemoteAe;

/**
 * Where results go: a DICOM peer (the SR by C-STORE) or the FHIR server (the bundle).
 *
 * @param name the configured name (stable; the delivery ledger refers to it)
 * @param dicom the peer for a DICOM destination, null for FHIR
 */
public record Destination(String name, RemoteAe dicom) {
    /** The name of the FHIR destination. */
    public static final String FHIR = "fhir";

    public Destination {
        Objects.requireNonNull(name, "name");
    }

    public boolean isFhir() {
        return dicom == null;
    }

    public static Destination dicom(String name, RemoteAe peer) {
        return new Destination(name, Objects.requireNonNull(peer, "peer"));
    }

    public static Destination fhir() {
        return new Destination(FHIR, null);
    }
}
