package org.cttriage.core.dicom.net;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The one definition of which TLS the node speaks, inbound and outbound: DICOM PS3.15 B.12
 * "BCP 195 RFC 8996, 9325 TLS Secure Transport Connection Profile". TLS 1.3 and TLS 1.2 only
 * (RFC 8996); for TLS 1.2 only ECDHE key exchange with AEAD ciphers (RFC 9325 section 4.2), so
 * every session has forward secrecy and no CBC/SHA-1 record protection; the server's order of
 * preference wins. Key and trust stores are PKCS#12 files.
 */
public final class TlsProfile {
    /** Protocols, newest first. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /**
     * Cipher suites in preference order: the TLS 1.3 suites (all AEAD, key exchange always
     * ephemeral), then the TLS 1.2 ECDHE AEAD suites RFC 9325 section 4.2 recommends, then their
     * ChaCha20-Poly1305 counterparts.
     */
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private static final String STORE_TYPE = "PKCS12";

    private TlsProfile() {
    }

    /**
     * Restricts {@code parameters} to this profile: its protocols and those of its suites the
     * running JSSE supports (a suite the runtime lacks cannot be enabled, and one this list lacks
     * never is), with the local order of preference honoured when we are the server.
     */
    public static void apply(SSLParameters parameters, String[] supportedCipherSuites) {
        Set<String> supported = Set.of(supportedCipherSuites);
        parameters.setProtocols(PROTOCOLS.toArray(String[]::new));
        parameters.setCipherSuites(CIPHER_SUITES.stream().filter(supported::contains).toArray(String[]::new));
        parameters.setUseCipherSuitesOrder(true);
    }

    /** Key managers over the PKCS#12 {@code file} (its keys share the store's password). */
    public static KeyManager[] keyManagers(Path file, char[] password) throws IOException, GeneralSecurityException {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(load(file, password), password);
        return kmf.getKeyManagers();
    }

    /** The PKIX trust manager of the PKCS#12 trust store {@code file}. */
    public static X509ExtendedTrustManager trustManager(Path file, char[] password) throws IOException, GeneralSecurityException {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(load(file, password));
        return Arrays.stream(tmf.getTrustManagers()).filter(X509ExtendedTrustManager.class::isInstance)
                .map(X509ExtendedTrustManager.class::cast).findFirst()
                .orElseThrow(() -> new GeneralSecurityException("no X.509 trust manager for " + file));
    }

    private static KeyStore load(Path file, char[] password) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(STORE_TYPE);
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, password);
        }
        return store;
    }
}
