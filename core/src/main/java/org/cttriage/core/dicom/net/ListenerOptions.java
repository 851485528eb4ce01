package org.cttriage.core.dicom.net;

import com.pixelmed.dicom.TransferSyntax;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How the DICOM listener accepts associations. Immutable; validated on construction.
 *
 * @param aeTitle our AE title (1–16 characters, no backslash); the called AE title must match it
 * @param bindAddress the local address to listen on (default 127.0.0.1: a site opens it deliberately)
 * @param port TCP port; 0 picks an ephemeral one (tests)
 * @param allowedCallingAeTitles calling AE titles accepted; empty accepts any
 * @param maxAssociations associations served at once; more are rejected (transient, local limit)
 * @param transferSyntaxes accepted transfer syntaxes in preference order: when a presentation
 *     context offers several, the first of this list that is offered is chosen
 * @param tls TLS, or empty for plain TCP
 * @param incomingFolder where instances are written ({@code .part}) before the store handler takes them
 * @param minFreeDiskBytes below this free space on the incoming folder's file store, associations are refused
 * @param maxPduLength the largest P-DATA PDU we receive
 * @param idleTimeout how long a silent peer keeps its association
 * @param artimTimeout the whole time a new connection has to deliver its A-ASSOCIATE-RQ (PS3.8's
 *     ARTIM timer, started at transport connect); then the node closes the connection
 * @param maxAssociationsPerHost connections from one remote address at once, associated or still
 *     negotiating; more are closed as soon as they are accepted
 */
public record ListenerOptions(String aeTitle, InetAddress bindAddress, int port, Set<String> allowedCallingAeTitles,
        int maxAssociations, List<String> transferSyntaxes, Optional<TlsOptions> tls, Path incomingFolder,
        long minFreeDiskBytes, int maxPduLength, Duration idleTimeout, Duration artimTimeout,
        int maxAssociationsPerHost) {
    /** Default preference: uncompressed explicit, uncompressed implicit, then the lossless compressions we decode. */
    public static final List<String> DEFAULT_TRANSFER_SYNTAXES = List.of(TransferSyntax.ExplicitVRLittleEndian,
            TransferSyntax.ImplicitVRLittleEndian, TransferSyntax.RLE, TransferSyntax.JPEGLosslessSV1,
            TransferSyntax.JPEGLossless);
    /** Transfer syntaxes the node can decode, so the only ones a site may list. */
    public static final Set<String> SUPPORTED_TRANSFER_SYNTAXES = Set.copyOf(DEFAULT_TRANSFER_SYNTAXES);
    public static final int DEFAULT_PORT = 11112;
    public static final int DEFAULT_MAX_ASSOCIATIONS = 16;
    public static final long DEFAULT_MIN_FREE_DISK_BYTES = 1L << 30;
    public static final int DEFAULT_MAX_PDU_LENGTH = 131072;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    /** PS3.8 leaves ARTIM to the implementation; dcmtk and pynetdicom wait 30 s, a PACS sends its RQ at once. */
    public static final Duration DEFAULT_ARTIM_TIMEOUT = Duration.ofSeconds(10);
    /** As many as the node serves at all: one host may use every association, but not hold more connections. */
    public static final int DEFAULT_MAX_ASSOCIATIONS_PER_HOST = DEFAULT_MAX_ASSOCIATIONS;

    public ListenerOptions {
        Objects.requireNonNull(aeTitle, "aeTitle");
        if (aeTitle.isBlank() || aeTitle.length() > 16 || aeTitle.contains("\\")) {
            throw new IllegalArgumentException("AE title must be 1-16 characters without backslash: " + aeTitle);
        }
        Objects.requireNonNull(bindAddress, "bindAddress");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0-65535: " + port);
        }
        allowedCallingAeTitles = Set.copyOf(allowedCallingAeTitles);
        if (maxAssociations < 1) {
            throw new IllegalArgumentException("maxAssociations must be at least 1: " + maxAssociations);
        }
        transferSyntaxes = List.copyOf(transferSyntaxes);
        if (transferSyntaxes.isEmpty()) {
            throw new IllegalArgumentException("at least one transfer syntax must be accepted");
        }
        for (String ts : transferSyntaxes) {
            if (!SUPPORTED_TRANSFER_SYNTAXES.contains(ts)) {
                throw new IllegalArgumentException("transfer syntax " + ts + " is not one of " + DEFAULT_TRANSFER_SYNTAXES);
            }
        }
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(incomingFolder, "incomingFolder");
        if (minFreeDiskBytes < 0) {
            throw new IllegalArgumentException("minFreeDiskBytes must not be negative");
        }
        if (maxPduLength < 4096 || maxPduLength > (1 << 24)) {
            throw new IllegalArgumentException("maxPduLength must be 4096-16777216: " + maxPduLength);
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive");
        }
        if (artimTimeout.isNegative() || artimTimeout.isZero() || artimTimeout.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("artimTimeout must be positive and at most 10 minutes: " + artimTimeout);
        }
        if (maxAssociationsPerHost < 1) {
            throw new IllegalArgumentException("maxAssociationsPerHost must be at least 1: " + maxAssociationsPerHost);
        }
    }

    /** Defaults for everything but the AE title, address, port and incoming folder. */
    public static ListenerOptions defaults(String aeTitle, InetAddress bindAddress, int port, Path incomingFolder) {
        return new ListenerOptions(aeTitle, bindAddress, port, Set.of(), DEFAULT_MAX_ASSOCIATIONS,
                DEFAULT_TRANSFER_SYNTAXES, Optional.empty(), incomingFolder, DEFAULT_MIN_FREE_DISK_BYTES,
                DEFAULT_MAX_PDU_LENGTH, DEFAULT_IDLE_TIMEOUT, DEFAULT_ARTIM_TIMEOUT, DEFAULT_MAX_ASSOCIATIONS_PER_HOST);
    }

    public ListenerOptions withAllowedCallingAeTitles(Set<String> allowed) {
        return new ListenerOptions(aeTitle, bindAddress, port, allowed, maxAssociations, transferSyntaxes, tls,
                incomingFolder, minFreeDiskBytes, maxPduLength, idleTimeout, artimTimeout,
                maxAssociationsPerHost);
    }

    public ListenerOptions withMaxAssociations(int max) {
        return new ListenerOptions(aeTitle, bindAddress, port, allowedCallingAeTitles, max, transferSyntaxes, tls,
                incomingFolder, minFreeDiskBytes, maxPduLength, idleTimeout, artimTimeout,
                maxAssociationsPerHost);
    }

    public ListenerOptions withMinFreeDiskBytes(long bytes) {
        return new ListenerOptions(aeTitle, bindAddress, port, allowedCallingAeTitles, maxAssociations,
                transferSyntaxes, tls, incomingFolder, bytes, maxPduLength, idleTimeout, artimTimeout,
                maxAssociationsPerHost);
    }

    public ListenerOptions withTransferSyntaxes(List<String> preference) {
        return new ListenerOptions(aeTitle, bindAddress, port, allowedCallingAeTitles, maxAssociations, preference,
                tls, incomingFolder, minFreeDiskBytes, maxPduLength, idleTimeout, artimTimeout,
                maxAssociationsPerHost);
    }

    public ListenerOptions withTls(Optional<TlsOptions> tlsOptions) {
        return new ListenerOptions(aeTitle, bindAddress, port, allowedCallingAeTitles, maxAssociations,
                transferSyntaxes, tlsOptions, incomingFolder, minFreeDiskBytes, maxPduLength, idleTimeout, artimTimeout,
                maxAssociationsPerHost);
    }

    public ListenerOptions withArtimTimeout(Duration timeout) {
        return new ListenerOptions(aeTitle, bindAddress, port, allowedCallingAeTitles, maxAssociations,
                transferSyntaxes, tls, incomingFolder, minFreeDiskBytes, maxPduLength, idleTimeout, timeout,
                maxAssociationsPerHost);
    }

    public ListenerOptions withMaxAssociationsPerHost(int max) {
        return new ListenerOptions(aeTitle, bindAddress, port, allowedCallingAeTitles, maxAssociations,
                transferSyntaxes, tls, incomingFolder, minFreeDiskBytes, maxPduLength, idleTimeout, artimTimeout, max);
    }
}
