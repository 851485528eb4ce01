package org.cttriage.testdata.dicom;

import static org.cttriage.testdata.dicom.CtSeriesWriter.ds;
import static org.cttriage.testdata.dicom.CtSeriesWriter.put;
import static org.cttriage.testdata.dicom.CtSeriesWriter.sequence;
import static org.cttriage.testdata.dicom.CtSeriesWriter.tag;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.TagFromName;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomSpec;

/**
 * Writes a phantom as one Enhanced CT Image Storage instance: per-frame Plane Position and
 * Frame Content; shared Pixel Measures, Plane Orientation, Pixel Value Transformation and
 * the CT functional groups the IOD requires (PS3.3 A.38).
 */
final class EnhancedCtWriter {
    private final CtSeriesWriter base;

    EnhancedCtWriter(CtSeriesWriter base) {
        this.base = base;
    }

    CtSeriesWriter.WrittenSeries write(Phantom phantom, SeriesWriteOptions options, Path folder)
            throws IOException, DicomException {
        PhantomSpec spec = phantom.spec();
        long seed = spec.seed();
        int frames = spec.slices();
        String date = CtSeriesWriter.studyDate(phantom);
        String dateTime = date + "090000";
        AttributeList list = new AttributeList();
        base.putCommon(list, phantom, options, SOPClass.EnhancedCTImageStorage, base.instanceUid(seed, options, 0));
        put(list, TagFromName.InstanceNumber, "1");
        put(list, TagFromName.ContentDate, date);
        put(list, TagFromName.ContentTime, "090000");
        put(list, TagFromName.AcquisitionDateTime, dateTime);
        put(list, TagFromName.AcquisitionDuration, "10");
        put(list, TagFromName.AcquisitionNumber, "1");
        put(list, TagFromName.NumberOfFrames, Integer.toString(frames));
        put(list, TagFromName.ImageType, "ORIGINAL", "PRIMARY", "VOLUME", "NONE");
        put(list, TagFromName.PixelPresentation, "MONOCHROME");
        put(list, TagFromName.VolumetricProperties, "VOLUME");
        put(list, TagFromName.VolumeBasedCalculationTechnique, "NONE");
        put(list, TagFromName.ContentQualification, "PRODUCT");
        put(list, TagFromName.BurnedInAnnotation, "NO");
        put(list, TagFromName.LossyImageCompression, "00");
        put(list, TagFromName.PresentationLUTShape, "IDENTITY");
        put(list, TagFromName.ImageComments, "synthetic phantom, not a patient");
        sequence(list, TagFromName.AcquisitionContextSequence);
        if (spec.phase() != ContrastPhase.NONE) {
            // The Enhanced Contrast/Bolus module needs a coded agent (CID 12); we ship no code we have
            // not confirmed from the standard, so contrast phases are written as single-frame CT only.
            throw new IllegalArgumentException("the Enhanced CT variant is written without contrast only;"
                    + " use the single-frame layout for contrast phase " + spec.phase());
        }
        base.putPixelModule(list, options, spec.rows(), spec.columns());
        // Pixel Value Transformation lives in the functional groups in Enhanced CT, not at the top level.
        list.remove(TagFromName.RescaleIntercept);
        list.remove(TagFromName.RescaleSlope);
        list.remove(TagFromName.RescaleType);

        String dimensionOrganization = DeterministicUids.uid(seed, "dimension-organization/" + options.seriesNumber());
        AttributeList organization = new AttributeList();
        put(organization, TagFromName.DimensionOrganizationUID, dimensionOrganization);
        sequence(list, TagFromName.DimensionOrganizationSequence, organization);
        AttributeList stackDimension = new AttributeList();
        put(stackDimension, TagFromName.DimensionOrganizationUID, dimensionOrganization);
        pointer(stackDimension, TagFromName.DimensionIndexPointer, TagFromName.StackID);
        pointer(stackDimension, TagFromName.FunctionalGroupPointer, TagFromName.FrameContentSequence);
        AttributeList positionDimension = new AttributeList();
        put(positionDimension, TagFromName.DimensionOrganizationUID, dimensionOrganization);
        pointer(positionDimension, TagFromName.DimensionIndexPointer, TagFromName.InStackPositionNumber);
        pointer(positionDimension, TagFromName.FunctionalGroupPointer, TagFromName.FrameContentSequence);
        sequence(list, TagFromName.DimensionIndexSequence, stackDimension, positionDimension);

        sequence(list, TagFromName.SharedFunctionalGroupsSequence, shared(spec, options));
        AttributeList[] perFrame = new AttributeList[frames];
        for (int z = 0; z < frames; z++) {
            perFrame[z] = perFrame(phantom, z, dateTime);
        }
        sequence(list, TagFromName.PerFrameFunctionalGroupsSequence, perFrame);

        int voxels = spec.rows() * spec.columns() * frames;
        short[] stored = CtSeriesWriter.stored(phantom.hu(), 0, voxels, options);
        Path file = folder.resolve(String.format(Locale.ROOT, "s%03d-enhanced.dcm", options.seriesNumber()));
        base.writeFile(list, stored, spec.rows(), spec.columns(), frames, options, file);
        return new CtSeriesWriter.WrittenSeries(CtSeriesWriter.studyUid(seed),
                CtSeriesWriter.seriesUid(seed, options.seriesNumber()), List.of(file));
    }

    private AttributeList shared(PhantomSpec spec, SeriesWriteOptions options) throws DicomException {
        boolean signed = options.pixelRepresentation() == SeriesWriteOptions.PixelRepresentationOption.SIGNED;
        AttributeList shared = new AttributeList();
        AttributeList measures = new AttributeList();
        put(measures, TagFromName.PixelSpacing, ds(spec.pixelSpacingMm()), ds(spec.pixelSpacingMm()));
        put(measures, TagFromName.SliceThickness, ds(spec.sliceThicknessMm()));
        sequence(shared, TagFromName.PixelMeasuresSequence, measures);
        AttributeList orientation = new AttributeList();
        put(orientation, TagFromName.ImageOrientationPatient, "1", "0", "0", "0", "1", "0");
        sequence(shared, TagFromName.PlaneOrientationSequence, orientation);
        AttributeList transform = new AttributeList();
        put(transform, TagFromName.RescaleIntercept, signed ? "0" : "-1024");
        put(transform, TagFromName.RescaleSlope, "1");
        put(transform, TagFromName.RescaleType, "HU");
        sequence(shared, TagFromName.PixelValueTransformationSequence, transform);
        AttributeList voi = new AttributeList();
        put(voi, TagFromName.WindowCenter, "40");
        put(voi, TagFromName.WindowWidth, "400");
        sequence(shared, TagFromName.FrameVOILUTSequence, voi);
        AttributeList frameType = new AttributeList();
        put(frameType, TagFromName.FrameType, "ORIGINAL", "PRIMARY", "VOLUME", "NONE");
        put(frameType, TagFromName.PixelPresentation, "MONOCHROME");
        put(frameType, TagFromName.VolumetricProperties, "VOLUME");
        put(frameType, TagFromName.VolumeBasedCalculationTechnique, "NONE");
        sequence(shared, TagFromName.CTImageFrameTypeSequence, frameType);
        AttributeList acquisitionType = new AttributeList();
        put(acquisitionType, TagFromName.AcquisitionType, "SPIRAL");
        put(acquisitionType, tag("ConstantVolumeFlag"), "NO");
        put(acquisitionType, tag("FluoroscopyFlag"), "NO");
        sequence(shared, TagFromName.CTAcquisitionTypeSequence, acquisitionType);
        AttributeList details = new AttributeList();
        put(details, tag("DataCollectionDiameter"), ds(spec.columns() * spec.pixelSpacingMm()));
        put(details, tag("GantryDetectorTilt"), "0");
        put(details, TagFromName.TableHeight, "150");
        put(details, tag("RotationDirection"), "CW");
        put(details, tag("RevolutionTime"), "0.5");
        put(details, tag("SingleCollimationWidth"), "0.625");
        put(details, tag("TotalCollimationWidth"), "40");
        sequence(shared, tag("CTAcquisitionDetailsSequence"), details);
        AttributeList table = new AttributeList();
        put(table, tag("TableSpeed"), "80");
        put(table, tag("TableFeedPerRotation"), "40");
        put(table, tag("SpiralPitchFactor"), "1");
        sequence(shared, TagFromName.CTTableDynamicsSequence, table);
        AttributeList geometry = new AttributeList();
        put(geometry, TagFromName.DistanceSourceToDetector, "1085.6");
        put(geometry, tag("DistanceSourceToDataCollectionCenter"), "595");
        sequence(shared, tag("CTGeometrySequence"), geometry);
        AttributeList reconstruction = new AttributeList();
        put(reconstruction, tag("ReconstructionAlgorithm"), "FILTER_BACK_PROJ");
        put(reconstruction, TagFromName.ConvolutionKernel, options.convolutionKernel());
        put(reconstruction, tag("ConvolutionKernelGroup"), "SOFT_TISSUE");
        put(reconstruction, TagFromName.ReconstructionDiameter, ds(spec.columns() * spec.pixelSpacingMm()));
        put(reconstruction, tag("ReconstructionPixelSpacing"), ds(spec.pixelSpacingMm()), ds(spec.pixelSpacingMm()));
        put(reconstruction, tag("ReconstructionAngle"), "360");
        put(reconstruction, tag("ImageFilter"), "NONE");
        sequence(shared, TagFromName.CTReconstructionSequence, reconstruction);
        AttributeList exposure = new AttributeList();
        put(exposure, tag("ExposureTimeInms"), "500");
        put(exposure, tag("XRayTubeCurrentInmA"), "200");
        put(exposure, tag("ExposureInmAs"), "100");
        put(exposure, tag("ExposureModulationType"), "NONE");
        sequence(shared, TagFromName.CTExposureSequence, exposure);
        AttributeList xray = new AttributeList();
        put(xray, tag("KVP"), "120");
        put(xray, tag("FocalSpots"), "1.2");
        put(xray, tag("FilterType"), "BODY");
        put(xray, tag("FilterMaterial"), "ALUMINUM");
        sequence(shared, TagFromName.CTXRayDetailsSequence, xray);
        // SCT 416550000 "Chest and Abdomen" is in DICOM CID 4030/4031 (checked in pydicom's
        // sr/_concepts_dict.py, which is generated from the standard's code tables).
        AttributeList region = new AttributeList();
        put(region, TagFromName.CodeValue, "416550000");
        put(region, TagFromName.CodingSchemeDesignator, "SCT");
        put(region, TagFromName.CodeMeaning, "Chest and Abdomen");
        AttributeList anatomy = new AttributeList();
        sequence(anatomy, TagFromName.AnatomicRegionSequence, region);
        put(anatomy, TagFromName.FrameLaterality, "U");
        sequence(shared, TagFromName.FrameAnatomySequence, anatomy);
        AttributeList irradiation = new AttributeList();
        put(irradiation, TagFromName.IrradiationEventUID, DeterministicUids.uid(spec.seed(), "irradiation"));
        sequence(shared, tag("IrradiationEventIdentificationSequence"), irradiation);
        return shared;
    }

    private AttributeList perFrame(Phantom phantom, int z, String dateTime) throws DicomException {
        AttributeList frame = new AttributeList();
        double[] origin = phantom.sliceOrigin(z);
        AttributeList content = new AttributeList();
        put(content, TagFromName.FrameAcquisitionNumber, "1");
        put(content, TagFromName.FrameReferenceDateTime, dateTime);
        put(content, TagFromName.FrameAcquisitionDateTime, dateTime);
        put(content, TagFromName.FrameAcquisitionDuration, "10");
        put(content, TagFromName.StackID, "1");
        put(content, TagFromName.InStackPositionNumber, Integer.toString(z + 1));
        put(content, TagFromName.DimensionIndexValues, "1", Integer.toString(z + 1));
        sequence(frame, TagFromName.FrameContentSequence, content);
        AttributeList position = new AttributeList();
        put(position, TagFromName.ImagePositionPatient, ds(origin[0]), ds(origin[1]), ds(origin[2]));
        sequence(frame, TagFromName.PlanePositionSequence, position);
        AttributeList ctPosition = new AttributeList();
        put(ctPosition, TagFromName.TablePosition, ds(-origin[2]));
        put(ctPosition, tag("ReconstructionTargetCenterPatient"), "0", "0", ds(origin[2]));
        put(ctPosition, tag("DataCollectionCenterPatient"), "0", "0", ds(origin[2]));
        sequence(frame, TagFromName.CTPositionSequence, ctPosition);
        return frame;
    }

    private static void pointer(AttributeList list, AttributeTag tag, AttributeTag value) throws DicomException {
        com.pixelmed.dicom.AttributeTagAttribute a = new com.pixelmed.dicom.AttributeTagAttribute(tag);
        a.addValue(value);
        list.put(a);
    }
}
