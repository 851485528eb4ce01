package org.cttriage.fhir.mapping;

/**
 * Site settings of the FHIR mapping. {@link #defaults()} documents every default.
 *
 * @param patientIdentifierSystem identifier system for the DICOM Patient ID when the issuer is
 *                                absent or unknown (default "urn:cttriage:patient-id"; sites set their MRN system)
 * @param identifierSystem        system of the identifiers ct-triage gives its reports,
 *                                observations and device (default "urn:cttriage:id")
 * @param manufacturer            Device.manufacturer (default "ct-triage")
 */
public record FhirMappingOptions(String patientIdentifierSystem, String identifierSystem, String manufacturer) {
    public FhirMappingOptions {
        if (patientIdentifierSystem == null || patientIdentifierSystem.isBlank()
                || identifierSystem == null || identifierSystem.isBlank()) {
            throw new IllegalArgumentException("patientIdentifierSystem and identifierSystem must be URIs");
        }
    }

    /** The defaults listed on the record. */
    public static FhirMappingOptions defaults() {
        return new FhirMappingOptions("urn:cttriage:patient-id", "urn:cttriage:id", "ct-triage");
    }
}
