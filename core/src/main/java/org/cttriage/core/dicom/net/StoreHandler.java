package org.cttriage.core.dicom.net;

/**
 * Takes a received instance and answers the status the C-STORE response carries. Called on the
 * association's thread before the response is sent, so it must persist and return quickly; slow
 * work is queued. The handler owns the file: it moves or deletes it. The file arrives written but
 * not forced to disk, so that a handler may order its rename and fsyncs as it needs (and need
 * none for a file it deletes); before answering Success for a file it keeps, the handler makes
 * the file and its directory entry durable. An exception is answered with
 * {@link DimseStatus#PROCESSING_FAILURE} and the file is deleted.
 */
@FunctionalInterface
public interface StoreHandler {
    DimseStatus stored(ReceivedInstance instance) throws Exception;
}
