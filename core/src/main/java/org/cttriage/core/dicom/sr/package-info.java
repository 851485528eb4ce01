/**
 * The AI result as a DICOM Comprehensive 3D SR following TID 1500 (Measurement Report) as
 * IHE AI Results (AIR) asks. PixelMed builds the content tree; the document modules are ours.
 */
package org.cttriage.core.dicom.sr;
