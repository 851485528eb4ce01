package org.cttriage.core.domain;

/**
 * A code as DICOM and FHIR carry it.
 *
 * @param scheme  coding scheme designator (e.g. SCT, or a private 99-prefixed scheme)
 * @param value   code value
 * @param meaning code meaning
 */
public record CodedConcept(String scheme, String value, String meaning) {
}
