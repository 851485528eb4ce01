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

    /**
     * An endpoint configured with typed options rather than a URI string: the node's listener, whose key store
     * passwords then never appear in a URI (which Camel may log or show). Its URI is {@code dicom:AET}.
     */
    public DicomEndpoint endpoint(String aeTitle, DicomConfiguration configuration) {
        return new DicomEndpoint("dicom:" + aeTitle, this, aeTitle, configuration);
    }
}
