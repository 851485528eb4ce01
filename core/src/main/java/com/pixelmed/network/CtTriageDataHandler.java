package com.pixelmed.network;

import java.io.IOException;
import java.net.Socket;

/**
 * Opens PixelMed's {@link ReceivedDataHandler} and association acceptor to ct-triage's DIMSE
 * handler.
 *
 * <p>Why this class lives in PixelMed's package: {@code ReceivedDataHandler}'s constructors and
 * the {@code AssociationAcceptor} type are package-private, and PixelMed's own
 * {@code StorageSOPClassSCP} answers every C-STORE with Success (or aborts the association when
 * its callback throws). A node that must answer bad input with a proper DICOM status (A900H,
 * C000H, A700H …) needs its own handler on PixelMed's association and PDU layer. Nothing of
 * PixelMed is changed or shadowed.
 */
public abstract class CtTriageDataHandler extends ReceivedDataHandler {
    protected CtTriageDataHandler() {
        super();
    }

    /**
     * Negotiates an association on {@code socket} as acceptor (reads the A-ASSOCIATE-RQ, answers
     * A-ASSOCIATE-AC with the contexts {@code policy} accepts).
     */
    public static Association accept(Socket socket, String calledAeTitle, int maximumLengthReceived,
            int receiveBufferSize, int sendBufferSize, PresentationContextSelectionPolicy policy)
            throws DicomNetworkException, IOException {
        return AssociationFactory.createNewAssociation(socket, calledAeTitle, maximumLengthReceived, receiveBufferSize,
                sendBufferSize, policy);
    }
}
