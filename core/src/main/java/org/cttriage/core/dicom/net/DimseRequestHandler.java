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
 * Out of Resources instead of aborting. A data set nested deeper than
 * {@link DataSetDepth#MAX_NESTING_DEPTH} is answered Cannot Understand before anything parses it
 * (PixelMed's parser recurses per level); a command set that is too long, nested, unparseable or
 * not C-ECHO/C-STORE cannot be answered at all and the association is aborted (A-ABORT from the
 * DIMSE layer as UL service-user).
 */
final class DimseRequestHandler extends CtTriageDataHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DimseRequestHandler.class);
    private static final int WRITE_BUFFER = 1 << 20;
    /** Real command sets are a few hundred bytes; this bounds what a peer can make us buffer. */
    static final int MAX_COMMAND_LENGTH = 64 * 1024;

    private final Path incomingFolder;
    private final StoreHandler storeHandler;
    private final String callingAeTitle;
    private final InetAddress remote;
    private final PduGuard guard;
    private final boolean readSubject;
    private java.util.Optional<InstanceSubject> subject = java.util.Optional.empty();
    private final ByteArrayOutputStream command = new ByteArrayOutputStream();
    private CStoreRequestCommandMessage store;
    private byte presentationContextId;
    private Path part;
    private FileOutputStream fileOut;
    private OutputStream out;
    private long written;
    private long dataSetOffset;
    private String transferSyntax;
    private DimseStatus failure;
    private byte[] response;
    private DimseStatus answered;

    DimseRequestHandler(Path incomingFolder, StoreHandler storeHandler, String callingAeTitle, InetAddress remote,
            PduGuard guard, boolean readSubject) {
        this.readSubject = readSubject;
        this.incomingFolder = incomingFolder;
        this.storeHandler = storeHandler;
        this.callingAeTitle = callingAeTitle;
        this.remote = remote;
        this.guard = guard;
    }

    @Override
    public void sendPDataIndication(PDataPDU pdata, Association association)
            throws DicomNetworkException, DicomException, IOException {
        for (Object o : pdata.getPDVList()) {
            PresentationDataValue pdv = (PresentationDataValue) o;
            presentationContextId = pdv.getPresentationContextID();
            if (pdv.isCommand()) {
                if (command.size() + pdv.getValue().length > MAX_COMMAND_LENGTH) {
                    throw guard.abortAsServiceUser(ErrorCode.PDU_REJECTED, "command set longer than "
                            + MAX_COMMAND_LENGTH + " bytes");
                }
                command.write(pdv.getValue());
                if (pdv.isLastFragment()) {
                    commandComplete(association);
                }
            } else {
                if (store == null) {
                    throw guard.abortAsServiceUser(ErrorCode.PDU_REJECTED, "data set received without a C-STORE request");
                }
                data(pdv.getValue(), association);
                if (pdv.isLastFragment()) {
                    dataComplete();
                }
            }
        }
    }

    private void commandComplete(Association association) throws DicomException, IOException, DicomNetworkException {
        byte[] bytes = command.toByteArray();
        // Command sets are always Implicit VR Little Endian (PS3.7 6.3.1).
        if (DataSetDepth.exceeds(new ByteArrayInputStream(bytes), true, DataSetDepth.MAX_NESTING_DEPTH)) {
            throw guard.abortAsServiceUser(ErrorCode.NESTING_TOO_DEEP, "command set nests sequences deeper than "
                    + DataSetDepth.MAX_NESTING_DEPTH + " levels");
        }
        AttributeList list = new AttributeList();
        try {
            list.read(new DicomInputStream(new ByteArrayInputStream(bytes), TransferSyntax.Default, false));
        } catch (DicomException | IOException | RuntimeException | StackOverflowError e) {
            throw guard.abortAsServiceUser(ErrorCode.PDU_REJECTED, "command set cannot be parsed ("
                    + (e instanceof StackOverflowError ? "nested too deeply" : String.valueOf(e.getMessage())) + ")");
        }
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
            throw guard.abortAsServiceUser(ErrorCode.PDU_REJECTED, "unsupported DIMSE command "
                    + (field < 0 ? "(no Command Field)" : MessageServiceElementCommand.toString(field)));
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
        dataSetOffset = written;
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
            if (DataSetDepth.exceeds(part, dataSetOffset, TransferSyntax.ImplicitVRLittleEndian.equals(transferSyntax),
                    DataSetDepth.MAX_NESTING_DEPTH)) {
                LOG.warn(ErrorCode.NESTING_TOO_DEEP.code() + " instance {} from {} nests sequences deeper than {} levels:"
                        + " answered {}", store.getAffectedSOPInstanceUID(), callingAeTitle,
                        DataSetDepth.MAX_NESTING_DEPTH, DimseStatus.ERROR_CANNOT_UNDERSTAND.hex());
                deleteQuietly(part);
                return DimseStatus.ERROR_CANNOT_UNDERSTAND;
            }
        } catch (IOException e) {
            LOG.error(ErrorCode.RECEIVE_WRITE_FAILED.code() + " cannot read back received instance from {}: {}",
                    callingAeTitle, e.getMessage());
            deleteQuietly(part);
            return DimseStatus.REFUSED_OUT_OF_RESOURCES;
        }
        if (readSubject) {
            // After the nesting check: the parser only meets data sets it can take.
            subject = InstanceSubject.read(part, dataSetOffset, transferSyntax);
        }
        try {
            return storeHandler.stored(new ReceivedInstance(part, store.getAffectedSOPClassUID(),
                    store.getAffectedSOPInstanceUID(), transferSyntax, callingAeTitle, remote, written));
        } catch (StackOverflowError e) {
            // A last line of defence: whatever parses the instance recursed too deep; the thread
            // must live to answer, and the instance is refused, not kept.
            LOG.warn(ErrorCode.NESTING_TOO_DEEP.code() + " parsing instance {} from {} ran out of stack: answered {}",
                    store.getAffectedSOPInstanceUID(), callingAeTitle, DimseStatus.ERROR_CANNOT_UNDERSTAND.hex());
            deleteQuietly(part);
            return DimseStatus.ERROR_CANNOT_UNDERSTAND;
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

    /** True when a C-STORE request was received but not answered: its data set is incomplete. */
    boolean partial() {
        return store != null && response == null;
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

    String sopClassUid() {
        return store == null ? null : store.getAffectedSOPClassUID();
    }

    /** The stored instance's patient and study, when asked for and readable. */
    java.util.Optional<InstanceSubject> subject() {
        return subject;
    }
}
