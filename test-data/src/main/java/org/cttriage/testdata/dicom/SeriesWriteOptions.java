package org.cttriage.testdata.dicom;

import java.util.Locale;

/**
 * How a phantom is written as DICOM. {@link #defaults()} documents every default.
 *
 * @param transferSyntax     encoding of the files (default explicit VR little endian)
 * @param pixelRepresentation signed pixels (HU stored directly, 16 bits) or unsigned
 *                           (HU + 1024 in 12 bits, the usual CT layout) (default unsigned)
 * @param layout             one file per slice, or one Enhanced CT multi-frame file (default single frame)
 * @param seriesNumber       Series Number; also makes the series' UIDs distinct within the study (default 1)
 * @param seriesDescription  Series Description (default "Phantom CT chest abdomen")
 * @param convolutionKernel  Convolution Kernel (default "STANDARD")
 * @param patientName        Patient Name in DICOM PN form; non-ASCII names set Specific Character
 *                           Set ISO_IR 192 (default "Phantom^Case")
 * @param instanceNumbersDescending number instances from the feet up, so that nothing may rely
 *                           on Instance Number order (default false)
 */
public record SeriesWriteOptions(
        TransferSyntaxOption transferSyntax,
        PixelRepresentationOption pixelRepresentation,
        Layout layout,
        int seriesNumber,
        String seriesDescription,
        String convolutionKernel,
        String patientName,
        boolean instanceNumbersDescending) {

    /** Transfer syntaxes the generator can write. */
    public enum TransferSyntaxOption {
        IMPLICIT_LE("1.2.840.10008.1.2"),
        EXPLICIT_LE("1.2.840.10008.1.2.1"),
        /** RLE Lossless, encoded by {@link RleEncoder}. */
        RLE("1.2.840.10008.1.2.5"),
        /** JPEG Lossless SV1, encoded by dcmtk's dcmcjpeg (PixelMed has no JPEG encoder). */
        JPEG_LOSSLESS("1.2.840.10008.1.2.4.70");

        private final String uid;

        TransferSyntaxOption(String uid) {
            this.uid = uid;
        }

        /** The transfer syntax UID. */
        public String uid() {
            return uid;
        }

        /** Parses the CLI spelling (implicit, explicit, rle, jpeg-lossless). */
        public static TransferSyntaxOption parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "implicit" -> IMPLICIT_LE;
                case "explicit" -> EXPLICIT_LE;
                case "rle" -> RLE;
                case "jpeg-lossless" -> JPEG_LOSSLESS;
                default -> throw new IllegalArgumentException(
                        "transfer syntax must be one of implicit, explicit, rle, jpeg-lossless; was " + s);
            };
        }
    }

    /** Pixel Representation of the written pixels. */
    public enum PixelRepresentationOption { SIGNED, UNSIGNED }

    /** File layout. */
    public enum Layout {
        /** CT Image Storage, one file per slice. */
        SINGLE_FRAME,
        /** Enhanced CT Image Storage, one multi-frame file with functional groups. */
        ENHANCED_MULTI_FRAME
    }

    public SeriesWriteOptions {
        if (transferSyntax == null || pixelRepresentation == null || layout == null) {
            throw new IllegalArgumentException("transferSyntax, pixelRepresentation and layout are required");
        }
        if (seriesNumber < 1) {
            throw new IllegalArgumentException("seriesNumber must be >= 1, was " + seriesNumber);
        }
    }

    /** The defaults listed on the record. */
    public static SeriesWriteOptions defaults() {
        return new SeriesWriteOptions(TransferSyntaxOption.EXPLICIT_LE, PixelRepresentationOption.UNSIGNED,
                Layout.SINGLE_FRAME, 1, "Phantom CT chest abdomen", "STANDARD", "Phantom^Case", false);
    }

    public SeriesWriteOptions withTransferSyntax(TransferSyntaxOption t) {
        return new SeriesWriteOptions(t, pixelRepresentation, layout, seriesNumber, seriesDescription,
                convolutionKernel, patientName, instanceNumbersDescending);
    }

    public SeriesWriteOptions withPixelRepresentation(PixelRepresentationOption p) {
        return new SeriesWriteOptions(transferSyntax, p, layout, seriesNumber, seriesDescription,
                convolutionKernel, patientName, instanceNumbersDescending);
    }

    public SeriesWriteOptions withLayout(Layout l) {
        return new SeriesWriteOptions(transferSyntax, pixelRepresentation, l, seriesNumber, seriesDescription,
                convolutionKernel, patientName, instanceNumbersDescending);
    }

    public SeriesWriteOptions withSeries(int number, String description, String kernel) {
        return new SeriesWriteOptions(transferSyntax, pixelRepresentation, layout, number, description, kernel,
                patientName, instanceNumbersDescending);
    }

    public SeriesWriteOptions withPatientName(String name) {
        return new SeriesWriteOptions(transferSyntax, pixelRepresentation, layout, seriesNumber, seriesDescription,
                convolutionKernel, name, instanceNumbersDescending);
    }

    public SeriesWriteOptions withInstanceNumbersDescending(boolean descending) {
        return new SeriesWriteOptions(transferSyntax, pixelRepresentation, layout, seriesNumber, seriesDescription,
                convolutionKernel, patientName, descending);
    }
}
