package org.cttriage.core.dicom.net;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.DicomOutputStream;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import com.pixelmed.network.Association;
import com.pixelmed.network.CEchoRequestCommandMessage;
import com.pixelmed.network.CEchoResponseCommandMessage;
import com.pixelmed.network.CStoreRequestCommandMessage;
import com.pixelmed.network.CStoreResponseCommandMessage;
import com.pixelmed.network.CtTriageDataHandler;
import com.pixelmed.network.DicomNetworkException;
import com.pixelmed.network.MessageServiceElementCommand;
import com.pixelmed.network.PDataPDU;
import com.pixelmed.network.PresentationDataValue;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.cttriage.core.error.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives one DIMSE request (C-ECHO or C-STORE) on an association and builds its response.
 * A C-STORE data set is streamed into a {@code .part} file behind its File Meta Information,
 * closed, and handed to the {@link StoreHandler}, which makes it durable if it keeps it and whose
 * status the response carries. A write failure (disk full) keeps consuming the PDUs and answers
 * Out of Resources instead of aborting.
 */
final class DimseRequestHandler extends CtTriageDataHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DimseRequestHandler.class);
    private static final int WRITE_BUFFER = 1 << 20;

    private final Path incomingFolder;
    private final StoreHandler storeHandler;
    private final String callingAeTitle;
    private final InetAddress remote;
    private final ByteArrayOutputStream command = new ByteArrayOutputStream();
    private CStoreRequestCommandMessage store;
    private byte presentationContextId;
    private Path part;
    private FileOutputStream fileOut;
    private OutputStream out;
    private long written;
    private String transferSyntax;
    private DimseStatus failure;
    private byte[] response;
    private DimseStatus answered;

    DimseRequestHandler(Path incomingFolder, StoreHandler storeHandler, String callingAeTitle, InetAddress remote) {
        this.incomingFolder = incomingFolder;
        this.storeHandler = storeHandler;
        this.callingAeTitle = callingAeTitle;
        this.remote = remote;
    }

    @Override
    public void sendPDataIndication(PDataPDU pdata, Association association)
            throws DicomNetworkException, DicomException, IOException {
        for (Object o : pdata.getPDVList()) {
            PresentationDataValue pdv = (PresentationDataValue) o;
            presentationContextId = pdv.getPresentationContextID();
            if (pdv.isCommand()) {
                command.write(pdv.getValue());
                if (pdv.isLastFragment()) {
                    commandComplete(association);
                }
            } else {
                if (store == null) {
                    throw new DicomNetworkException("data set received without a C-STORE request");
                }
                data(pdv.getValue(), association);
                if (pdv.isLastFragment()) {
                    dataComplete();
                }
            }
        }
    }

    private void commandComplete(Association association) throws DicomException, IOException, DicomNetworkException {
        AttributeList list = new AttributeList();
        list.read(new DicomInputStream(new ByteArrayInputStream(command.toByteArray()), TransferSyntax.Default, false));
        int field = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.CommandField, -1);
        if (field == MessageServiceElementCommand.C_ECHO_RQ) {
            CEchoRequestCommandMessage echo = new CEchoRequestCommandMessage(list);
            response = new CEchoResponseCommandMessage(echo.getAffectedSOPClassUID(), echo.getMessageID(),
                    DimseStatus.SUCCESS.code()).getBytes();
            answered = DimseStatus.SUCCESS;
            setDone(true);
        } else if (field == MessageServiceElementCommand.C_STORE_RQ) {
            store = new CStoreRequestCommandMessage(list);
        } else {
            throw new DicomNetworkException("unsupported command " + MessageServiceElementCommand.toString(field));
        }
    }

    private void data(byte[] bytes, Association association) throws DicomNetworkException {
        if (failure != null) {
            return;
        }
        try {
            if (out == null) {
                open(association.getTransferSyntaxForPresentationContextID(presentationContextId));
            }
            out.write(bytes);
            written += bytes.length;
        } catch (IOException | DicomException e) {
            LOG.error(ErrorCode.RECEIVE_WRITE_FAILED.code() + " cannot write received instance from {}: {}", callingAeTitle, e.toString());
            failure = DimseStatus.REFUSED_OUT_OF_RESOURCES;
            discard();
        }
    }

    private void open(String negotiated) throws IOException, DicomException {
        transferSyntax = negotiated;
        part = incomingFolder.resolve(UUID.randomUUID() + ".part");
        fileOut = new FileOutputStream(part.toFile());
        out = new BufferedOutputStream(fileOut, WRITE_BUFFER);
        FileMetaInformation meta = new FileMetaInformation(store.getAffectedSOPClassUID(),
                store.getAffectedSOPInstanceUID(), negotiated, callingAeTitle);
        DicomOutputStream dout = new DicomOutputStream(out, TransferSyntax.ExplicitVRLittleEndian, null);
        meta.getAttributeList().write(dout);
        dout.flush();
        written = fileOut.getChannel().position();
    }

    private void dataComplete() throws DicomException, IOException {
        DimseStatus status = failure;
        if (status == null) {
            status = persistAndHandOver();
        }
        answered = status;
        response = new CStoreResponseCommandMessage(store.getAffectedSOPClassUID(), store.getAffectedSOPInstanceUID(),
                store.getMessageID(), status.code()).getBytes();
        setDone(true);
    }

    private DimseStatus persistAndHandOver() {
        try {
            // Written and closed; the store handler forces what it keeps to disk before it answers
            // Success (after its rename, so that one journal commit covers both).
            out.close();
            out = null;
        } catch (IOException e) {
            LOG.error(ErrorCode.RECEIVE_WRITE_FAILED.code() + " cannot write received instance from {}: {}", callingAeTitle, e.toString());
            discard();
            return DimseStatus.REFUSED_OUT_OF_RESOURCES;
        }
        try {
            return storeHandler.stored(new ReceivedInstance(part, store.getAffectedSOPClassUID(),
                    store.getAffectedSOPInstanceUID(), transferSyntax, callingAeTitle, remote, written));
        } catch (Exception e) {
            LOG.error(ErrorCode.STORE_HANDLER_FAILED.code() + " store handler failed for an instance from {}: {}", callingAeTitle, e.toString(), e);
            deleteQuietly(part);
            return DimseStatus.PROCESSING_FAILURE;
        }
    }

    private void discard() {
        try {
            if (out != null) {
                out.close();
            }
        } catch (IOException ignored) {
            // the file is deleted next; nothing to keep
        }
        out = null;
        if (part != null) {
            deleteQuietly(part);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn(ErrorCode.RECEIVE_WRITE_FAILED.code() + " cannot delete {}: {}", file, e.toString());
        }
    }

    /** Called when the association ends mid-message: nothing may be left half-written. */
    void abandon() {
        if (out != null) {
            discard();
        }
    }

    byte[] response() {
        return response;
    }

    byte presentationContextId() {
        return presentationContextId;
    }

    DimseStatus answered() {
        return answered;
    }

    String sopInstanceUid() {
        return store == null ? null : store.getAffectedSOPInstanceUID();
    }
}
