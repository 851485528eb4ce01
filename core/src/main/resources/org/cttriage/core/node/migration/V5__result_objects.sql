-- V5 (issue 16): every DICOM object a result sends back to the study, SR first, then the organ SEG and the
-- key-image KOS when they were made, as JSON [{modality, sopClassUid, sopInstanceUid, seriesInstanceUid, path}].
-- NULL for a result recorded before: its SR (sr_path) is all it has.
ALTER TABLE node_result ADD COLUMN IF NOT EXISTS objects_json ${clob};
