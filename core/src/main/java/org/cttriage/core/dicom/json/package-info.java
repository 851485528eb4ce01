/**
 * The DICOM JSON Model (PS3.18 Annex F.2) for the node's DICOMweb user agents, with tags and VRs from the standard data
 * dictionary (PixelMed's, kept behind {@code org.cttriage.core.dicom}).
 */
package org.cttriage.core.dicom.json;
