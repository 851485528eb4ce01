package org.cttriage.core.dicom.net;

import java.net.InetAddress;
import java.nio.file.Path;

/**
 * One instance received by C-STORE, written as a Part 10 file ({@code .part}) in the incoming
 * folder and closed, but not yet forced to disk; the store handler decides what becomes of it
 * and, if it keeps it, makes it durable (see {@link StoreHandler}).
 *
 * @param file the written file, File Meta Information included
 * @param sopClassUid Affected SOP Class UID of the C-STORE request
 * @param sopInstanceUid Affected SOP Instance UID of the C-STORE request
 * @param transferSyntaxUid the negotiated transfer syntax of the data set
 * @param callingAeTitle the peer's AE title
 * @param remoteAddress the peer's address
 * @param bytes length of the file
 */
public record ReceivedInstance(Path file, String sopClassUid, String sopInstanceUid, String transferSyntaxUid,
        String callingAeTitle, InetAddress remoteAddress, long bytes) {
}
