package org.cttriage.core.dicom;

import java.nio.file.Path;
import java.util.List;

/**
 * What the volume builder needs to know about one image frame: a single-frame CT image is
 * one slice; an Enhanced CT instance contributes one slice per frame, with the values of
 * its per-frame (or shared) functional groups. Geometry is in the patient coordinate
 * system (LPS, millimetres); absent values are {@code null}.
 *
 * @param file                file holding the frame
 * @param frameIndex          0-based frame within the instance
 * @param numberOfFrames      frames in the instance (1 for single-frame images)
 * @param transferSyntaxUid   transfer syntax of the data set
 * @param pixelDataOffset     byte offset of native little-endian pixel data in the file, or -1
 *                            when the pixel data must be decoded by PixelMed
 * @param imagePosition       Image Position (Patient), 3 values, or null
 * @param imageOrientation    Image Orientation (Patient), 6 values, or null
 * @param pixelSpacing        Pixel Spacing (row spacing, column spacing), or null
 * @param sliceThickness      Slice Thickness, or null
 * @param paddingValue        Pixel Padding Value as stored, or null
 * @param paddingRangeLimit   Pixel Padding Range Limit as stored, or null
 * @param phaseKey            the attribute that tells phases apart at one position
 *                            (Acquisition Number, Temporal Position, acquisition time), may be empty
 */
public record SliceHeader(
        Path file,
        int frameIndex,
        int numberOfFrames,
        String transferSyntaxUid,
        long pixelDataOffset,
        String sopClassUid,
        String sopInstanceUid,
        String studyInstanceUid,
        String seriesInstanceUid,
        String seriesNumber,
        String seriesDescription,
        String modality,
        List<String> imageType,
        int instanceNumber,
        double[] imagePosition,
        double[] imageOrientation,
        double[] pixelSpacing,
        Double sliceThickness,
        int rows,
        int columns,
        int bitsAllocated,
        int bitsStored,
        int highBit,
        int pixelRepresentation,
        int samplesPerPixel,
        String photometricInterpretation,
        double rescaleSlope,
        double rescaleIntercept,
        Integer paddingValue,
        Integer paddingRangeLimit,
        String convolutionKernel,
        String phaseKey) {

    /** True when Image Type says this is a localizer (scout). */
    public boolean isLocalizer() {
        return imageType.contains("LOCALIZER");
    }

    /** True when Image Type starts with ORIGINAL\PRIMARY. */
    public boolean isOriginalPrimary() {
        return imageType.size() >= 2 && "ORIGINAL".equals(imageType.get(0)) && "PRIMARY".equals(imageType.get(1));
    }

    /** Identity of the frame for messages: SOP Instance UID, plus the frame number when multi-frame. */
    public String frameId() {
        return numberOfFrames > 1 ? sopInstanceUid + "[frame " + (frameIndex + 1) + "]" : sopInstanceUid;
    }
}
