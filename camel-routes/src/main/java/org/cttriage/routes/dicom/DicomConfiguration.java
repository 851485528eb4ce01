package org.cttriage.routes.dicom;

import java.util.Arrays;
import java.util.List;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriParams;
import org.cttriage.core.dicom.net.ListenerOptions;

/**
 * Every option of a {@code dicom:} endpoint. The consumer listens as the AE title in the URI
 * path; the producer sends to the AE title in the URI path.
 */
@UriParams
public class DicomConfiguration implements Cloneable {
    @UriParam(defaultValue = "127.0.0.1", description = "Consumer: address to listen on. Producer: the peer's host.")
    private String host = "127.0.0.1";
    @UriParam(defaultValue = "11112", description = "Consumer: port to listen on (0 = ephemeral). Producer: the peer's port.")
    private int port = ListenerOptions.DEFAULT_PORT;
    @UriParam(label = "producer", defaultValue = "CTTRIAGE", description = "Producer: our AE title (the calling AE title).")
    private String callingAeTitle = "CTTRIAGE";
    @UriParam(label = "consumer", description = "Consumer: comma-separated calling AE titles accepted; empty accepts any.")
    private String allowedCallingAeTitles = "";
    @UriParam(label = "consumer", defaultValue = "16", description = "Consumer: associations served at once.")
    private int maxAssociations = ListenerOptions.DEFAULT_MAX_ASSOCIATIONS;
    @UriParam(label = "consumer", description = "Consumer: comma-separated transfer syntax UIDs in preference order.")
    private String transferSyntaxes = String.join(",", ListenerOptions.DEFAULT_TRANSFER_SYNTAXES);
    @UriParam(label = "consumer", description = "Consumer: folder where instances are written before the route takes them.")
    @Metadata(required = true)
    private String incomingDirectory;
    @UriParam(label = "consumer", defaultValue = "1073741824",
            description = "Consumer: below this many free bytes associations are refused.")
    private long minFreeDiskBytes = ListenerOptions.DEFAULT_MIN_FREE_DISK_BYTES;
    @UriParam(label = "consumer", defaultValue = "131072", description = "Consumer: largest PDU received.")
    private int maxPduLength = ListenerOptions.DEFAULT_MAX_PDU_LENGTH;
    @UriParam(label = "consumer", defaultValue = "60000", description = "Consumer: idle association timeout in ms.")
    private long idleTimeoutMillis = ListenerOptions.DEFAULT_IDLE_TIMEOUT.toMillis();
    @UriParam(label = "consumer", defaultValue = "10000",
            description = "Consumer: ARTIM timeout in ms, the whole time a connection has to deliver its A-ASSOCIATE-RQ.")
    private long artimTimeoutMillis = ListenerOptions.DEFAULT_ARTIM_TIMEOUT.toMillis();
    @UriParam(label = "consumer", defaultValue = "16",
            description = "Consumer: connections one remote host may hold at once; more are closed at once.")
    private int maxAssociationsPerHost = ListenerOptions.DEFAULT_MAX_ASSOCIATIONS_PER_HOST;
    @UriParam(label = "security", description = "Consumer: PKCS#12 key store with the server certificate; enables TLS."
            + " Producer: PKCS#12 key store with our client certificate, presented when the peer asks (optional).")
    private String tlsKeyStore;
    @UriParam(label = "security", secret = true, description = "Key store password.")
    private String tlsKeyStorePassword = "";
    @UriParam(label = "security", description = "Consumer: PKCS#12 trust store for client certificates."
            + " Producer: PKCS#12 trust store of the peer's certificate or CA; enables TLS (there is no trust-all).")
    private String tlsTrustStore;
    @UriParam(label = "security", secret = true, description = "Trust store password.")
    private String tlsTrustStorePassword = "";
    @UriParam(label = "producer,security", description = "Producer: SHA-256 fingerprint of the peer's certificate; the"
            + " certificate must be exactly this one, checked instead of the host name (the default).")
    private String tlsPinnedSha256;
    @UriParam(label = "consumer,security", defaultValue = "NONE", enums = "NONE,REQUIRED",
            description = "Consumer: whether clients must present a certificate the trust store accepts.")
    private String tlsClientAuth = "NONE";

    public List<String> allowedCallingAeTitleList() {
        return split(allowedCallingAeTitles);
    }

    public List<String> transferSyntaxList() {
        return split(transferSyntaxes);
    }

    private static List<String> split(String s) {
        return s == null || s.isBlank() ? List.of()
                : Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
    }

    public DicomConfiguration copy() {
        try {
            return (DicomConfiguration) clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    public String getHost() {
        return host;
    }

    public void setHost(String host) {
        this.host = host;
    }

    public int getPort() {
        return port;
    }

    public void setPort(int port) {
        this.port = port;
    }

    public String getCallingAeTitle() {
        return callingAeTitle;
    }

    public void setCallingAeTitle(String callingAeTitle) {
        this.callingAeTitle = callingAeTitle;
    }

    public String getAllowedCallingAeTitles() {
        return allowedCallingAeTitles;
    }

    public void setAllowedCallingAeTitles(String allowedCallingAeTitles) {
        this.allowedCallingAeTitles = allowedCallingAeTitles;
    }

    public int getMaxAssociations() {
        return maxAssociations;
    }

    public void setMaxAssociations(int maxAssociations) {
        this.maxAssociations = maxAssociations;
    }

    public String getTransferSyntaxes() {
        return transferSyntaxes;
    }

    public void setTransferSyntaxes(String transferSyntaxes) {
        this.transferSyntaxes = transferSyntaxes;
    }

    public String getIncomingDirectory() {
        return incomingDirectory;
    }

    public void setIncomingDirectory(String incomingDirectory) {
        this.incomingDirectory = incomingDirectory;
    }

    public long getMinFreeDiskBytes() {
        return minFreeDiskBytes;
    }

    public void setMinFreeDiskBytes(long minFreeDiskBytes) {
        this.minFreeDiskBytes = minFreeDiskBytes;
    }

    public int getMaxPduLength() {
        return maxPduLength;
    }

    public void setMaxPduLength(int maxPduLength) {
        this.maxPduLength = maxPduLength;
    }

    public long getIdleTimeoutMillis() {
        return idleTimeoutMillis;
    }

    public void setIdleTimeoutMillis(long idleTimeoutMillis) {
        this.idleTimeoutMillis = idleTimeoutMillis;
    }

    public long getArtimTimeoutMillis() {
        return artimTimeoutMillis;
    }

    public void setArtimTimeoutMillis(long artimTimeoutMillis) {
        this.artimTimeoutMillis = artimTimeoutMillis;
    }

    public int getMaxAssociationsPerHost() {
        return maxAssociationsPerHost;
    }

    public void setMaxAssociationsPerHost(int maxAssociationsPerHost) {
        this.maxAssociationsPerHost = maxAssociationsPerHost;
    }

    public String getTlsKeyStore() {
        return tlsKeyStore;
    }

    public void setTlsKeyStore(String tlsKeyStore) {
        this.tlsKeyStore = tlsKeyStore;
    }

    public String getTlsKeyStorePassword() {
        return tlsKeyStorePassword;
    }

    public void setTlsKeyStorePassword(String tlsKeyStorePassword) {
        this.tlsKeyStorePassword = tlsKeyStorePassword;
    }

    public String getTlsTrustStore() {
        return tlsTrustStore;
    }

    public void setTlsTrustStore(String tlsTrustStore) {
        this.tlsTrustStore = tlsTrustStore;
    }

    public String getTlsTrustStorePassword() {
        return tlsTrustStorePassword;
    }

    public void setTlsTrustStorePassword(String tlsTrustStorePassword) {
        this.tlsTrustStorePassword = tlsTrustStorePassword;
    }

    public String getTlsPinnedSha256() {
        return tlsPinnedSha256;
    }

    public void setTlsPinnedSha256(String tlsPinnedSha256) {
        this.tlsPinnedSha256 = tlsPinnedSha256;
    }

    public String getTlsClientAuth() {
        return tlsClientAuth;
    }

    public void setTlsClientAuth(String tlsClientAuth) {
        this.tlsClientAuth = tlsClientAuth;
    }
}
