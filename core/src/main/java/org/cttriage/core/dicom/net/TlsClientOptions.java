package org.cttriage.core.dicom.net;

import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * TLS for the node's own associations (the SR to a PACS, {@code echo}): protocols and suites
 * are {@link TlsProfile}'s. The peer's certificate chain must always lead to the trust store
 * (there is no trust-all); the peer is then identified by {@link PeerCheck}.
 *
 * @param keyStore PKCS#12 key store with our client certificate and key, for peers that ask for
 *     one; empty: none is presented
 * @param keyStorePassword its password (and its key's)
 * @param trustStore PKCS#12 trust store of the peers' certificates or their CAs
 * @param trustStorePassword its password
 * @param peerCheck how the trusted certificate is tied to the peer we meant
 */
public record TlsClientOptions(Optional<Path> keyStore, char[] keyStorePassword, Path trustStore,
        char[] trustStorePassword, PeerCheck peerCheck) {
    public TlsClientOptions {
        Objects.requireNonNull(keyStore, "keyStore");
        Objects.requireNonNull(keyStorePassword, "keyStorePassword");
        Objects.requireNonNull(trustStore, "trustStore");
        Objects.requireNonNull(trustStorePassword, "trustStorePassword");
        Objects.requireNonNull(peerCheck, "peerCheck");
    }

    /** The same key material with another peer check (destinations share stores, not pins). */
    public TlsClientOptions withPeerCheck(PeerCheck check) {
        return new TlsClientOptions(keyStore, keyStorePassword, trustStore, trustStorePassword, check);
    }

    /** How a trusted certificate is tied to the peer. */
    public sealed interface PeerCheck permits HostName, Pinned {
    }

    /**
     * The default: the certificate's subject alternative names must hold the host name (or IP
     * address) we connected to (endpoint identification, RFC 6125 / RFC 2818 rules).
     */
    public record HostName() implements PeerCheck {
    }

    /**
     * For a peer addressed by an IP address its certificate does not carry: the certificate must be
     * exactly the one with this SHA-256 fingerprint (of its DER encoding), in place of the name check.
     *
     * @param sha256 the fingerprint, 32 bytes as 64 lower-case hex digits
     */
    public record Pinned(String sha256) implements PeerCheck {
        private static final Pattern FORM = Pattern.compile("(?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}");

        public Pinned {
            Objects.requireNonNull(sha256, "sha256");
            if (!FORM.matcher(sha256).matches()) {
                throw new IllegalArgumentException("a SHA-256 fingerprint is 64 hex digits (colons between pairs"
                        + " allowed), was " + sha256);
            }
            sha256 = sha256.replace(":", "").toLowerCase(Locale.ROOT);
        }

        /** Whether {@code digest} (raw SHA-256 bytes) is this fingerprint. */
        public boolean matches(byte[] digest) {
            return HexFormat.of().formatHex(digest).equals(sha256);
        }
    }
}
