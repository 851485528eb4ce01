package org.cttriage.routes.dicom;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultProducer;
import org.cttriage.core.dicom.net.DicomSender;
import org.cttriage.core.dicom.net.RemoteAe;

/**
 * C-STOREs the message body (a {@link Path}, {@link File}, file name, or a collection of them)
 * to the endpoint's AE on one association. Any instance not stored fails the exchange with a
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
        new DicomSender(c.getCallingAeTitle()).store(peer, files(exchange.getIn().getBody()));
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
