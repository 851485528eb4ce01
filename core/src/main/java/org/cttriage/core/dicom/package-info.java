/**
 * DICOM input over PixelMed. PixelMed types stay inside this package: everything it
 * returns is expressed in the project's own types ({@link org.cttriage.core.dicom.SliceHeader}).
 */
package org.cttriage.core.dicom;
