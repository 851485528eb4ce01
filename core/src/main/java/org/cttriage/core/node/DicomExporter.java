package org.cttriage.core.node;

import java.nio.file.Files;
import java.util.Optional;
import org.cttriage.core.dicom.net.DicomSender;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.dicom.net.TlsClientOptions;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * The result's DICOM objects (the SR, and its SEG and KOS when it has them) to a DICOM peer by C-STORE, all on one
 * association per attempt (over TLS when configured): the delivery is done only when the peer stored every one; the
 * connection and each answer time out ({@link DicomSender#CONNECT_TIMEOUT}, {@link DicomSender#ANSWER_TIMEOUT}).
 * A failed connection, association or C-STORE is retried: PixelMed's SCU does not tell a refusal
 * status from an out-of-resources one, and a PACS that refuses an SR today usually takes it once its
 * administrator has fixed its configuration. An SR file that is gone can never be sent: rejected.
 */
public final class DicomExporter implements Exporter {
    private final RemoteAe peer;
    private final DicomSender sender;

    /**
     * @param callingAeTitle our AE title
     * @param peer the destination
     * @param tls TLS to it, or empty for plain TCP
     */
    public DicomExporter(String callingAeTitle, RemoteAe peer, Optional<TlsClientOptions> tls) {
        this.peer = peer;
        this.sender = new DicomSender(callingAeTitle, tls);
    }

    @Override
    public String kind() {
        return "dicom-sr";
    }

    @Override
    public Attempt attempt(DeliveryLedger.Delivery delivery) {
        for (java.nio.file.Path file : delivery.files()) {
            if (!Files.isReadable(file)) {
                return new Attempt.Rejected(ErrorCode.DICOM_DELIVERY_FAILED.code() + " the result file " + file
                        + " is gone; the result cannot be sent to " + peer);
            }
        }
        try {
            sender.store(peer, delivery.files());
            return new Attempt.Delivered(delivery.files().size() == 1 ? "SR stored at " + peer
                    : "the SR and " + (delivery.files().size() - 1) + " objects it references stored at " + peer);
        } catch (TriageException e) {
            return new Attempt.Retry(e.getMessage(), null);
        }
    }
}
