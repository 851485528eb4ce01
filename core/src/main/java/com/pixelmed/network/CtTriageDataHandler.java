package com.pixelmed.network;

import java.io.IOException;
import java.net.Socket;
import java.util.HashSet;
import java.util.Set;

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

    /**
     * The ids of the presentation contexts {@code association} accepted (result 0, PS3.8
     * 9.3.3.2): the only ones a PDV may name. PixelMed keeps the list package-private.
     */
    public static Set<Integer> acceptedPresentationContexts(Association association) {
        Set<Integer> ids = new HashSet<>();
        for (Object o : association.presentationContexts) {
            PresentationContext pc = (PresentationContext) o;
            if (pc.getResultReason() == 0) {
                ids.add(pc.getIdentifier() & 0xff);
            }
        }
        return ids;
    }
}
