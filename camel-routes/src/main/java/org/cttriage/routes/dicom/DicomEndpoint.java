package org.cttriage.routes.dicom;

import org.apache.camel.Category;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriEndpoint;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriPath;
import org.apache.camel.support.DefaultEndpoint;

/** A {@code dicom:AET} endpoint; identity (the AE title) in the path, behaviour in {@link DicomConfiguration}. */
@UriEndpoint(firstVersion = "0.1.0", scheme = "dicom", title = "DICOM", syntax = "dicom:aeTitle",
        category = {Category.NETWORKING})
public class DicomEndpoint extends DefaultEndpoint {
    @UriPath(description = "Consumer: our AE title. Producer: the peer's AE title.")
    @Metadata(required = true)
    private final String aeTitle;
    @UriParam
    private DicomConfiguration configuration;
    private final java.util.List<org.cttriage.core.dicom.net.AssociationListener> observers =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    DicomEndpoint(String uri, DicomComponent component, String aeTitle, DicomConfiguration configuration) {
        super(uri, component);
        this.aeTitle = aeTitle;
        this.configuration = configuration;
    }

    @Override
    public Producer createProducer() {
        return new DicomProducer(this);
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        DicomConsumer consumer = new DicomConsumer(this, processor);
        configureConsumer(consumer);
        return consumer;
    }

    /**
     * Adds an observer of the listener's association events (metrics, audit); observers added before the
     * route starts see every association.
     */
    public void addObserver(org.cttriage.core.dicom.net.AssociationListener observer) {
        observers.add(observer);
    }

    java.util.List<org.cttriage.core.dicom.net.AssociationListener> observers() {
        return observers;
    }

    public String getAeTitle() {
        return aeTitle;
    }

    public DicomConfiguration getConfiguration() {
        return configuration;
    }

    public void setConfiguration(DicomConfiguration configuration) {
        this.configuration = configuration;
    }

    // Flat setters so URI options bind straight onto the configuration.
    public void setHost(String v) {
        configuration.setHost(v);
    }

    public void setPort(int v) {
        configuration.setPort(v);
    }

    public void setCallingAeTitle(String v) {
        configuration.setCallingAeTitle(v);
    }

    public void setAllowedCallingAeTitles(String v) {
        configuration.setAllowedCallingAeTitles(v);
    }

    public void setMaxAssociations(int v) {
        configuration.setMaxAssociations(v);
    }

    public void setTransferSyntaxes(String v) {
        configuration.setTransferSyntaxes(v);
    }

    public void setIncomingDirectory(String v) {
        configuration.setIncomingDirectory(v);
    }

    public void setMinFreeDiskBytes(long v) {
        configuration.setMinFreeDiskBytes(v);
    }

    public void setMaxPduLength(int v) {
        configuration.setMaxPduLength(v);
    }

    public void setIdleTimeoutMillis(long v) {
        configuration.setIdleTimeoutMillis(v);
    }

    public void setArtimTimeoutMillis(long v) {
        configuration.setArtimTimeoutMillis(v);
    }

    public void setMaxAssociationsPerHost(int v) {
        configuration.setMaxAssociationsPerHost(v);
    }

    public void setTlsKeyStore(String v) {
        configuration.setTlsKeyStore(v);
    }

    public void setTlsKeyStorePassword(String v) {
        configuration.setTlsKeyStorePassword(v);
    }

    public void setTlsTrustStore(String v) {
        configuration.setTlsTrustStore(v);
    }

    public void setTlsTrustStorePassword(String v) {
        configuration.setTlsTrustStorePassword(v);
    }

    public void setTlsClientAuth(String v) {
        configuration.setTlsClientAuth(v);
    }
}
