package com.pixelmed.network;

import com.pixelmed.dicom.SetOfDicomFiles;
import com.pixelmed.dicom.VersionAndConstants;
import com.pixelmed.utils.ByteArray;
import java.io.IOException;
import java.net.Socket;
import java.util.LinkedList;

/**
 * Requests an association on a connection ct-triage opened (and, for TLS, secured and checked)
 * itself.
 *
 * <p>Why this class lives in PixelMed's package: PixelMed's {@code AssociationInitiator} opens
 * its own socket, and its only TLS is the JVM-wide default {@code SSLSocketFactory} restricted to
 * TLSv1 with {@code TLS_RSA_WITH_AES_128_CBC_SHA} or 3DES, without a host name check: neither
 * BCP 195 nor configurable per peer. {@code AssociationFactory} has no requestor overload taking
 * a socket, and the association and PDU classes this needs are package-private. This class does
 * what {@code AssociationInitiator}'s constructor does once its socket is open (A-ASSOCIATE-RQ
 * out; A-ASSOCIATE-AC, -RJ or A-ABORT in), with the same implementation class UID and version
 * name; the association it returns is PixelMed's own from then on. Nothing of PixelMed is changed
 * or shadowed.
 */
public final class CtTriageRequestor extends Association {
    /** PixelMed's implementation class UID and version name, as {@code AssociationFactory} sends them. */
    private static final String IMPLEMENTATION_CLASS_UID = VersionAndConstants.implementationClassUID;
    private static final String IMPLEMENTATION_VERSION_NAME = VersionAndConstants.implementationVersionName;
    private static final int PDU_HEADER_LENGTH = 6;
    /** PixelMed compression level 0: no lossy or lossless recompression is proposed. */
    private static final int NO_COMPRESSION = 0;
    /** User Identity Negotiation (PS3.7 D.3.3.7) not requested. */
    private static final int NO_USER_IDENTITY = 0;
    private static final int A_ASSOCIATE_AC = 0x02;
    private static final int A_ASSOCIATE_RJ = 0x03;
    private static final int A_ABORT = 0x07;
    /** A-ABORT source "service provider", reason "unexpected PDU" (PS3.8 9.3.8). */
    private static final int ABORT_SOURCE_PROVIDER = 2;
    private static final int ABORT_REASON_UNEXPECTED_PDU = 2;

    private final String calledHost;
    private final int calledPort;

    private CtTriageRequestor(Socket socket, String calledAeTitle, String callingAeTitle,
            LinkedList<?> presentationContexts) {
        this.socket = socket;
        this.calledHost = socket.getInetAddress().getHostAddress();
        this.calledPort = socket.getPort();
        this.calledAETitle = calledAeTitle;
        this.callingAETitle = callingAeTitle;
        this.presentationContexts = presentationContexts;
        this.scuSCPRoleSelections = new LinkedList<>();
    }

    /**
     * Negotiates an association on the connected {@code socket}. On rejection or abort the socket
     * is closed and a {@link DicomNetworkException} says why.
     */
    public static Association request(Socket socket, String calledAeTitle, String callingAeTitle,
            LinkedList<?> presentationContexts) throws DicomNetworkException, IOException {
        CtTriageRequestor association = new CtTriageRequestor(socket, calledAeTitle, callingAeTitle,
                presentationContexts);
        association.negotiate();
        return association;
    }

    /** Presentation contexts for sending {@code files} in their own transfer syntax or an uncompressed one. */
    public static LinkedList<?> storageContexts(SetOfDicomFiles files) throws DicomNetworkException {
        return PresentationContextListFactory.createNewPresentationContextList(files, NO_COMPRESSION);
    }

    private void negotiate() throws DicomNetworkException, IOException {
        int ourMaximumLength = AssociationFactory.getDefaultMaximumLengthReceived();
        setSocketOptions(socket, ourMaximumLength, AssociationFactory.getDefaultReceiveBufferSize(),
                AssociationFactory.getDefaultSendBufferSize());
        in = socket.getInputStream();
        out = socket.getOutputStream();
        AssociateRequestPDU request = new AssociateRequestPDU(calledAETitle, callingAETitle, IMPLEMENTATION_CLASS_UID,
                IMPLEMENTATION_VERSION_NAME, ourMaximumLength, presentationContexts, scuSCPRoleSelections, NO_USER_IDENTITY,
                (String) null, (String) null);
        out.write(request.getBytes());
        out.flush();
        byte[] header = new byte[PDU_HEADER_LENGTH];
        readInsistently(in, header, 0, PDU_HEADER_LENGTH, "type and length of PDU");
        int type = header[0] & 0xff;
        int length = ByteArray.bigEndianToUnsignedInt(header, 2, 4);
        if (type == A_ASSOCIATE_AC) {
            AssociateAcceptPDU accept = new AssociateAcceptPDU(getRestOfPDU(in, header, length));
            presentationContexts = accept.getAcceptedPresentationContextsWithAbstractSyntaxIncludedFromRequest(
                    presentationContexts);
            maximumLengthReceived = accept.getMaximumLengthReceived();
        } else if (type == A_ASSOCIATE_RJ) {
            AssociateRejectPDU reject = new AssociateRejectPDU(getRestOfPDU(in, header, length));
            socket.close();
            throw new DicomNetworkException("A-ASSOCIATE-RJ indication - " + reject.getInfo());
        } else if (type == A_ABORT) {
            AAbortPDU abort = new AAbortPDU(getRestOfPDU(in, header, length));
            socket.close();
            throw new DicomNetworkException("A-ABORT indication - " + abort.getInfo());
        } else {
            out.write(new AAbortPDU(ABORT_SOURCE_PROVIDER, ABORT_REASON_UNEXPECTED_PDU).getBytes());
            out.flush();
            socket.close();
            throw new DicomNetworkException("A-P-ABORT indication - unexpected PDU type 0x" + Integer.toHexString(type)
                    + " in answer to A-ASSOCIATE-RQ");
        }
    }

    @Override
    public String getCallingAEHostName() {
        return getLocalHostName();
    }

    @Override
    public String getCalledAEHostName() {
        return calledHost;
    }

    @Override
    public int getCallingAEPort() {
        return getLocalPort();
    }

    @Override
    public int getCalledAEPort() {
        return calledPort;
    }
}
