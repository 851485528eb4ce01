package org.cttriage.core.dicom.net;

import com.pixelmed.dicom.SetOfDicomFiles;
import com.pixelmed.network.MultipleInstanceTransferStatusHandler;
import com.pixelmed.network.StorageSOPClassSCU;
import com.pixelmed.network.VerificationSOPClassSCU;
import java.nio.file.Path;
import java.util.List;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/** C-STORE and C-ECHO SCU over PixelMed (measured working against dcmtk storescp and Orthanc). */
public final class DicomSender {
    /** No compression: send in the file's own transfer syntax or whatever the peer accepts uncompressed. */
    private static final int NO_COMPRESSION = 0;

    private final String callingAeTitle;

    public DicomSender(String callingAeTitle) {
        this.callingAeTitle = callingAeTitle;
    }

    /** Verifies {@code peer} with C-ECHO. */
    public void echo(RemoteAe peer) throws TriageException {
        try {
            new VerificationSOPClassSCU(peer.host(), peer.port(), peer.aeTitle(), callingAeTitle, false);
        } catch (Exception e) {
            throw new TriageException(ErrorCode.ECHO_FAILED, "C-ECHO to " + peer + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Sends {@code files} to {@code peer} on one association.
     *
     * @throws TriageException when the association fails or any instance is not answered with success
     */
    public void store(RemoteAe peer, List<Path> files) throws TriageException {
        SetOfDicomFiles set = new SetOfDicomFiles();
        for (Path f : files) {
            set.add(f.toString());
        }
        int[] counts = new int[2];
        MultipleInstanceTransferStatusHandler status = new MultipleInstanceTransferStatusHandler() {
            @Override
            public void updateStatus(int remaining, int completed, int failed, int warning, String sopInstanceUid) {
                counts[0] = completed + warning;
                counts[1] = failed;
            }
        };
        StorageSOPClassSCU scu;
        try {
            scu = new StorageSOPClassSCU(peer.host(), peer.port(), peer.aeTitle(), callingAeTitle, set, NO_COMPRESSION,
                    status);
        } catch (Exception e) {
            throw new TriageException(ErrorCode.DICOM_DELIVERY_FAILED, "C-STORE to " + peer + " failed: " + e.getMessage(),
                    e);
        }
        if (scu.encounteredTrappedExceptions() || counts[1] > 0 || counts[0] != files.size()) {
            throw new TriageException(ErrorCode.DICOM_DELIVERY_FAILED, "C-STORE to " + peer + ": " + counts[0] + " of "
                    + files.size() + " stored, " + counts[1] + " failed"
                    + (scu.encounteredTrappedExceptions() ? " (association failed)" : ""));
        }
    }
}
