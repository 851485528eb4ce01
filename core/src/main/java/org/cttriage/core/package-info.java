/**
 * ct-triage core: the domain, DICOM I/O over PixelMed, series selection, CT volume
 * assembly and inference. Knows nothing of Camel or HAPI FHIR (enforced by the build).
 */
package org.cttriage.core;
