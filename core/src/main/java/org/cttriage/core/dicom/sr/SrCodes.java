package org.cttriage.core.dicom.sr;

import com.pixelmed.dicom.CodedSequenceItem;
import com.pixelmed.dicom.DicomException;
import org.cttriage.core.domain.CodedConcept;

/**
 * Every code the SR uses, each confirmed in DICOM PS3.16 (checked against the code tables
 * that Debian's python3-pydicom generates from the standard, sr/_concepts_dict.py), except
 * where marked private (99CTTRIAGE). Findings' and organs' codes come from the model's
 * abnormality dictionary, which records the source of each.
 */
final class SrCodes {
    private SrCodes() {
    }

    static final CodedConcept IMAGING_MEASUREMENT_REPORT = dcm("126000", "Imaging Measurement Report");
    static final CodedConcept LANGUAGE_OF_CONTENT = dcm("121049", "Language of Content Item and Descendants");
    static final CodedConcept ENGLISH_US = new CodedConcept("RFC5646", "en-US", "English (United States)");
    static final CodedConcept OBSERVER_TYPE = dcm("121005", "Observer Type");
    static final CodedConcept DEVICE = dcm("121007", "Device");
    static final CodedConcept DEVICE_OBSERVER_UID = dcm("121012", "Device Observer UID");
    static final CodedConcept DEVICE_OBSERVER_NAME = dcm("121013", "Device Observer Name");
    static final CodedConcept DEVICE_OBSERVER_MANUFACTURER = dcm("121014", "Device Observer Manufacturer");
    static final CodedConcept DEVICE_OBSERVER_MODEL_NAME = dcm("121015", "Device Observer Model Name");
    static final CodedConcept PROCEDURE_REPORTED = dcm("121058", "Procedure reported");
    /** LOINC, in CID 100; the region-specific CT codes were not found in the tables we could check. */
    static final CodedConcept CT_UNSPECIFIED_BODY_REGION = new CodedConcept("LN", "25045-6", "CT unspecified body region");
    static final CodedConcept IMAGE_LIBRARY = dcm("111028", "Image Library");
    static final CodedConcept IMAGE_LIBRARY_GROUP = dcm("126200", "Image Library Group");
    static final CodedConcept IMAGING_MEASUREMENTS = dcm("126010", "Imaging Measurements");
    static final CodedConcept MEASUREMENT_GROUP = dcm("125007", "Measurement Group");
    static final CodedConcept TRACKING_IDENTIFIER = dcm("112039", "Tracking Identifier");
    static final CodedConcept TRACKING_UID = dcm("112040", "Tracking Unique Identifier");
    static final CodedConcept FINDING = dcm("121071", "Finding");
    static final CodedConcept FINDING_SITE = new CodedConcept("SCT", "363698007", "Finding Site");
    static final CodedConcept PRESENCE = dcm("121052", "Presence of property");
    static final CodedConcept PRESENT = dcm("121053", "Present");
    static final CodedConcept ABSENT = dcm("121054", "Absent");
    static final CodedConcept PROBABILITY = dcm("122157", "Probability");
    static final CodedConcept NO_UNITS = new CodedConcept("UCUM", "1", "no units");
    static final CodedConcept ALGORITHM_NAME = dcm("111001", "Algorithm Name");
    static final CodedConcept ALGORITHM_VERSION = dcm("111003", "Algorithm Version");
    /** TID 1500 row 12; a UMLS concept the standard itself uses there. */
    static final CodedConcept QUALITATIVE_EVALUATIONS = new CodedConcept("UMLS", "C0034375", "Qualitative Evaluations");
    static final CodedConcept CAD_PROCESSING_SUMMARY = dcm("111017", "CAD Processing and Findings Summary");
    static final CodedConcept SUCCEEDED_WITH_FINDINGS = dcm("111242", "All algorithms succeeded; with findings");
    static final CodedConcept SUCCEEDED_WITHOUT_FINDINGS = dcm("111241", "All algorithms succeeded; without findings");
    /**
     * The suggested reading priority as a coded item: concept name SNOMED CT 272125009 "Priorities", the value one of
     * its children (the same concepts as FHIR RequestPriority's routine, urgent, asap, stat; issue 13 asks for a
     * standard code where one exists). Earlier versions wrote a private TEXT item (99CTTRIAGE triage-priority).
     */
    static final CodedConcept PRIORITIES = new CodedConcept("SCT", "272125009", "Priorities");

    /** The SNOMED CT qualifier value of {@code priority} (is-a 272125009 Priorities). */
    static CodedConcept priority(org.cttriage.core.domain.Priority priority) {
        return switch (priority) {
            case ROUTINE -> new CodedConcept("SCT", "50811001", "Routine");
            case URGENT -> new CodedConcept("SCT", "103391001", "Urgent");
            case ASAP -> new CodedConcept("SCT", "709122007", "As soon as possible");
            case STAT -> new CodedConcept("SCT", "49499008", "Stat");
        };
    }
    /**
     * Private: which of the study's series the result comes from and why, and why each other series was not used
     * (a study usually arrives as several reconstructions; the node triages one).
     */
    static final CodedConcept SERIES_SELECTION = new CodedConcept("99CTTRIAGE", "series-selection", "Series selection");
    static final CodedConcept PROCESSING_EQUIPMENT = dcm("109102", "Processing Equipment");

    // SEG, KOS and the SR's references to them (issue 16); each confirmed in pydicom's sr/_concepts_dict.py.
    /** CID 7162 Surface Processing Algorithm Families: the SEG's algorithm family. */
    static final CodedConcept ARTIFICIAL_INTELLIGENCE = dcm("123110", "Artificial Intelligence");
    /** CID 7150 Segmentation Property Categories: the category of every organ segment. */
    static final CodedConcept ANATOMICAL_STRUCTURE = new CodedConcept("SCT", "123037004", "Anatomical Structure");
    /** CID 7203 Image Derivation: what made each SEG frame from its source image. */
    static final CodedConcept SEGMENTATION = dcm("113076", "Segmentation");
    /** CID 7202 Source Image Purposes of Reference. */
    static final CodedConcept SOURCE_FOR_PROCESSING = dcm("121322", "Source image for image processing operation");
    /** CID 7010 Key Object Selection Document Title: the KOS title. */
    static final CodedConcept OF_INTEREST = dcm("113000", "Of Interest");
    /** CID 7010 too, and IHE IOCM's rejection note title: the objects of a superseded result are withdrawn. */
    static final CodedConcept REJECTED_FOR_QUALITY_REASONS = dcm("113001", "Rejected for Quality Reasons");
    static final CodedConcept KEY_OBJECT_DESCRIPTION = dcm("113012", "Key Object Description");
    /** TID 1411: the SEG segment a volumetric measurement group measures. */
    static final CodedConcept REFERENCED_SEGMENT = dcm("121191", "Referenced Segment");
    static final CodedConcept SOURCE_SERIES_FOR_SEGMENTATION = dcm("121232", "Source series for segmentation");
    static final CodedConcept VOLUME = new CodedConcept("SCT", "118565006", "Volume");
    /** UCUM millilitre, as CID 7181 writes it. */
    static final CodedConcept MILLILITER = new CodedConcept("UCUM", "ml", "milliliter");
    /** The key slice of a finding called present (CID 7003). */
    static final CodedConcept SOURCE_OF_MEASUREMENT = dcm("121112", "Source of Measurement");
    /** The finding's point on the frame of reference (SCOORD3D POINT). */
    static final CodedConcept IMAGE_REGION = dcm("111030", "Image Region");

    private static CodedConcept dcm(String value, String meaning) {
        return new CodedConcept("DCM", value, meaning);
    }

    static CodedSequenceItem item(CodedConcept c) throws DicomException {
        return new CodedSequenceItem(c.value(), c.scheme(), c.meaning());
    }
}
