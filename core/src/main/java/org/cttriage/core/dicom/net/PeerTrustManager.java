package org.cttriage.core.dicom.net;

import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.cttriage.core.error.ErrorCode;

/**
 * Checks a server's certificate for the node as TLS client, in two steps so that the failure is
 * named: the chain must lead to the trust store ({@code TRIAGE-0631}); then the trusted
 * certificate must name the host we connected to ({@code TRIAGE-0632}, the JDK's endpoint
 * identification, switched on in the socket's parameters) or, for a pinned peer, be the pinned
 * certificate ({@code TRIAGE-0633}). A refusal fails the handshake, before any DICOM is sent.
 */
final class PeerTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager trust;
    private final TlsClientOptions.PeerCheck check;

    PeerTrustManager(X509ExtendedTrustManager trust, TlsClientOptions.PeerCheck check) {
        this.trust = trust;
        this.check = check;
    }

    /** Why a peer's certificate was refused, with the stable code; the handshake exception keeps it as cause. */
    static final class Refused extends CertificateException {
        private static final long serialVersionUID = 1L;
        private final transient ErrorCode code;

        Refused(ErrorCode code, String reason, Throwable cause) {
            super(code.code() + " " + reason, cause);
            this.code = code;
        }

        ErrorCode code() {
            return code;
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        trusted(chain, authType);
        try {
            trust.checkServerTrusted(chain, authType, socket);
        } catch (CertificateException e) {
            throw identityRefused(chain, e);
        }
        pinned(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        trusted(chain, authType);
        try {
            trust.checkServerTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            throw identityRefused(chain, e);
        }
        pinned(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        trusted(chain, authType);
        pinned(chain);
    }

    private void trusted(X509Certificate[] chain, String authType) throws Refused {
        try {
            trust.checkServerTrusted(chain, authType);
        } catch (CertificateException e) {
            throw new Refused(ErrorCode.TLS_PEER_UNTRUSTED, "peer certificate " + subject(chain)
                    + " is not trusted by the trust store: " + e.getMessage(), e);
        }
    }

    /**
     * The chain is trusted, so what the socket-aware check adds failed: the name (when it is
     * checked), else the session's algorithm constraints, which make the certificate untrusted here.
     */
    private Refused identityRefused(X509Certificate[] chain, CertificateException e) {
        if (check instanceof TlsClientOptions.HostName) {
            return new Refused(ErrorCode.TLS_PEER_NAME_MISMATCH, "peer certificate " + subject(chain)
                    + " does not name the peer: " + e.getMessage(), e);
        }
        return new Refused(ErrorCode.TLS_PEER_UNTRUSTED, "peer certificate " + subject(chain)
                + " is not acceptable for this session: " + e.getMessage(), e);
    }

    private void pinned(X509Certificate[] chain) throws CertificateException {
        if (check instanceof TlsClientOptions.Pinned pin) {
            byte[] digest;
            try {
                digest = MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded());
            } catch (NoSuchAlgorithmException e) {
                throw new CertificateException("SHA-256 unavailable", e);
            }
            if (!pin.matches(digest)) {
                throw new Refused(ErrorCode.TLS_PEER_PIN_MISMATCH, "peer certificate " + subject(chain)
                        + " has SHA-256 " + java.util.HexFormat.of().formatHex(digest) + ", pinned is " + pin.sha256(),
                        null);
            }
        }
    }

    private static String subject(X509Certificate[] chain) {
        return chain.length == 0 ? "(none)" : "'" + chain[0].getSubjectX500Principal().getName() + "'";
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        trust.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        trust.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        trust.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return trust.getAcceptedIssuers();
    }
}
