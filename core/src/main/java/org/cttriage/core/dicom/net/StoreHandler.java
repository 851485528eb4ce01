package org.cttriage.core.dicom.net;

/**
 * Takes a received instance and answers the status the C-STORE response carries. Called on the
 * association's thread before the response is sent, so it must persist (rename into the spool,
 * record in the database) and return quickly; slow work is queued. The handler owns the file:
 * it moves or deletes it. An exception is answered with {@link DimseStatus#PROCESSING_FAILURE}
 * and the file is deleted.
 */
@FunctionalInterface
public interface StoreHandler {
    DimseStatus stored(ReceivedInstance instance) throws Exception;
}
