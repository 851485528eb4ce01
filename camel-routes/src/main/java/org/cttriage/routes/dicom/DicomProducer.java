package org.cttriage.routes.dicom;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultProducer;
import org.cttriage.core.dicom.net.DicomSender;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.dicom.net.TlsClientOptions;

/**
 * C-STOREs the message body (a {@link Path}, {@link File}, file name, or a collection of them)
 * to the endpoint's AE on one association, over TLS when the endpoint has a trust store. Any instance not stored fails the exchange with a
 * {@code TRIAGE-0610} exception, which the route's redelivery handles.
 */
public class DicomProducer extends DefaultProducer {
    public DicomProducer(DicomEndpoint endpoint) {
        super(endpoint);
    }

    @Override
    public DicomEndpoint getEndpoint() {
        return (DicomEndpoint) super.getEndpoint();
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        DicomConfiguration c = getEndpoint().getConfiguration();
        RemoteAe peer = new RemoteAe(getEndpoint().getAeTitle(), c.getHost(), c.getPort());
        new DicomSender(c.getCallingAeTitle(), tls(c)).store(peer, files(exchange.getIn().getBody()));
    }

    /** TLS when a trust store is configured: the peer is then checked by its pinned certificate or its host name. */
    private static Optional<TlsClientOptions> tls(DicomConfiguration c) {
        if (isBlank(c.getTlsTrustStore())) {
            return Optional.empty();
        }
        TlsClientOptions.PeerCheck check = isBlank(c.getTlsPinnedSha256()) ? new TlsClientOptions.HostName()
                : new TlsClientOptions.Pinned(c.getTlsPinnedSha256());
        return Optional.of(new TlsClientOptions(
                isBlank(c.getTlsKeyStore()) ? Optional.empty() : Optional.of(Path.of(c.getTlsKeyStore())),
                c.getTlsKeyStorePassword().toCharArray(), Path.of(c.getTlsTrustStore()),
                c.getTlsTrustStorePassword().toCharArray(), check));
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    private static List<Path> files(Object body) {
        List<Path> files = new ArrayList<>();
        if (body instanceof Collection<?> many) {
            for (Object o : many) {
                files.addAll(files(o));
            }
        } else if (body instanceof Path p) {
            files.add(p);
        } else if (body instanceof File f) {
            files.add(f.toPath());
        } else if (body instanceof String s) {
            files.add(Path.of(s));
        } else {
            throw new IllegalArgumentException("dicom producer needs files in the body, got "
                    + (body == null ? "nothing" : body.getClass().getName()));
        }
        return files;
    }
}
