/** The product's domain: what a triage of one CT series produced, in DICOM/FHIR terms. */
package org.cttriage.core.domain;
