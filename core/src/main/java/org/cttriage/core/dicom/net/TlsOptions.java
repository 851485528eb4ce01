package org.cttriage.core.dicom.net;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS for the listener: the key material; protocols and cipher suites are {@link TlsProfile}'s.
 *
 * @param keyStore PKCS#12 key store holding the server certificate and key
 * @param keyStorePassword its password
 * @param trustStore PKCS#12 trust store of accepted client CAs; required when clients must present a certificate
 * @param trustStorePassword its password
 * @param clientAuth whether the peer must present a certificate the trust store accepts
 */
public record TlsOptions(Path keyStore, char[] keyStorePassword, Optional<Path> trustStore, char[] trustStorePassword,
        ClientAuth clientAuth) {
    /** Client certificate check. */
    public enum ClientAuth {
        /** No client certificate asked for. */
        NONE,
        /** A client certificate is required and checked against the trust store. */
        REQUIRED
    }

    public TlsOptions {
        Objects.requireNonNull(keyStore, "keyStore");
        Objects.requireNonNull(trustStore, "trustStore");
        if (clientAuth == ClientAuth.REQUIRED && trustStore.isEmpty()) {
            throw new IllegalArgumentException("client certificate check REQUIRED needs a trust store");
        }
    }
}
