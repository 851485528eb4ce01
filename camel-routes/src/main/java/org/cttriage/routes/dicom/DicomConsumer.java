package org.cttriage.routes.dicom;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.DefaultConsumer;
import org.cttriage.core.dicom.net.AssociationPolicy;
import org.cttriage.core.dicom.net.DicomListener;
import org.cttriage.core.dicom.net.DimseStatus;
import org.cttriage.core.dicom.net.ListenerOptions;
import org.cttriage.core.dicom.net.ReceivedInstance;
import org.cttriage.core.dicom.net.TlsOptions;
import org.cttriage.core.error.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listener as a Camel consumer: each received instance (already on disk, fsynced) becomes
 * an exchange processed synchronously, as camel-mllp does for its acknowledgement; the route
 * persists it and sets {@link DicomConstants#DIMSE_STATUS}, which the C-STORE response carries.
 * A route that fails is answered Processing Failure and the file is discarded.
 */
public class DicomConsumer extends DefaultConsumer {
    private static final Logger LOG = LoggerFactory.getLogger(DicomConsumer.class);
    private DicomListener listener;

    public DicomConsumer(DicomEndpoint endpoint, Processor processor) {
        super(endpoint, processor);
    }

    @Override
    public DicomEndpoint getEndpoint() {
        return (DicomEndpoint) super.getEndpoint();
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return listener.port();
    }

    /** Associations accepted and not yet ended (0 when the listener is not running). */
    public int activeAssociations() {
        DicomListener l = listener;
        return l == null ? 0 : l.activeAssociations();
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        ListenerOptions options = options(getEndpoint().getAeTitle(), getEndpoint().getConfiguration());
        listener = new DicomListener(options, new AssociationPolicy(options), this::received);
        getEndpoint().observers().forEach(listener::addObserver);
        listener.start();
    }

    @Override
    protected void doStop() throws Exception {
        if (listener != null) {
            listener.close();
        }
        super.doStop();
    }

    static ListenerOptions options(String aeTitle, DicomConfiguration c) throws Exception {
        if (c.getIncomingDirectory() == null || c.getIncomingDirectory().isBlank()) {
            throw new IllegalArgumentException("dicom consumer needs incomingDirectory");
        }
        Optional<TlsOptions> tls = Optional.empty();
        if (c.getTlsKeyStore() != null && !c.getTlsKeyStore().isBlank()) {
            tls = Optional.of(new TlsOptions(Path.of(c.getTlsKeyStore()), c.getTlsKeyStorePassword().toCharArray(),
                    Optional.ofNullable(c.getTlsTrustStore()).filter(s -> !s.isBlank()).map(Path::of),
                    c.getTlsTrustStorePassword().toCharArray(), TlsOptions.ClientAuth.valueOf(c.getTlsClientAuth())));
        }
        return new ListenerOptions(aeTitle, InetAddress.getByName(c.getHost()), c.getPort(),
                Set.copyOf(c.allowedCallingAeTitleList()), c.getMaxAssociations(), c.transferSyntaxList(), tls,
                Path.of(c.getIncomingDirectory()), c.getMinFreeDiskBytes(), c.getMaxPduLength(),
                Duration.ofMillis(c.getIdleTimeoutMillis()), Duration.ofMillis(c.getArtimTimeoutMillis()),
                c.getMaxAssociationsPerHost());
    }

    private DimseStatus received(ReceivedInstance instance) throws Exception {
        Exchange exchange = createExchange(false);
        try {
            exchange.getIn().setBody(instance);
            exchange.getIn().setHeader(DicomConstants.CALLING_AE_TITLE, instance.callingAeTitle());
            exchange.getIn().setHeader(DicomConstants.SOP_INSTANCE_UID, instance.sopInstanceUid());
            getProcessor().process(exchange);
            if (exchange.getException() != null) {
                LOG.error("{} route failed for an instance from {}: {}", ErrorCode.STORE_HANDLER_FAILED.code(),
                        instance.callingAeTitle(), exchange.getException().toString());
                Files.deleteIfExists(instance.file());
                return DimseStatus.PROCESSING_FAILURE;
            }
            DimseStatus status = exchange.getMessage().getHeader(DicomConstants.DIMSE_STATUS, DimseStatus.class);
            return status == null ? DimseStatus.SUCCESS : status;
        } finally {
            releaseExchange(exchange, false);
        }
    }
}
