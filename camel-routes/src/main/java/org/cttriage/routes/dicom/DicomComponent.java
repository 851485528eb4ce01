package org.cttriage.routes.dicom;

import java.util.Map;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;

/**
 * The {@code dicom:} component: {@code dicom:AET?options}. As a consumer it is the node's
 * C-ECHO/C-STORE SCP listening as AET; as a producer it C-STOREs the message body (files) to the
 * peer AET. Structured like camel-mllp: component, endpoint, consumer, producer, one
 * {@link DicomConfiguration}.
 */
@Component("dicom")
public class DicomComponent extends DefaultComponent {
    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        DicomEndpoint endpoint = new DicomEndpoint(uri, this, remaining, new DicomConfiguration());
        setProperties(endpoint, parameters);
        return endpoint;
    }
}
