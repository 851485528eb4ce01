package org.cttriage.core.audit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the audit trail goes and how it behaves; the node's {@code audit.*} keys
 * (docs/configuration.md) make one of these.
 *
 * @param syslog the syslog collector, if any
 * @param file a local file each message is appended to (one XML document per line), if any
 * @param spoolDirectory where messages wait for the collector (one file per message)
 * @param spoolMaxBytes the spool's size limit; beyond it new messages are dropped (TRIAGE-0702)
 * @param timing timeouts and retry pacing
 */
public record AuditOptions(Optional<Syslog> syslog, Optional<Path> file, Path spoolDirectory, long spoolMaxBytes,
        Timing timing) {
    public AuditOptions {
        Objects.requireNonNull(syslog, "syslog");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(spoolDirectory, "spoolDirectory");
        Objects.requireNonNull(timing, "timing");
        if (spoolMaxBytes < 1) {
            throw new IllegalArgumentException("spool limit must be positive: " + spoolMaxBytes);
        }
    }

    /** True when messages go anywhere at all. */
    public boolean enabled() {
        return syslog.isPresent() || file.isPresent();
    }

    /** The transports of PS3.15 A.6 (TLS) and A.7 (UDP), and plain TCP with the same framing. */
    public enum Protocol {
        /** RFC 5425: syslog over TLS, octet-counting frames; IANA port 6514. */
        TLS(6514),
        /** RFC 6587 octet counting over plain TCP; port 514 by the common convention. */
        TCP(514),
        /** RFC 5426: one message per datagram; port 514. No delivery guarantee. */
        UDP(514);

        private final int defaultPort;

        Protocol(int defaultPort) {
            this.defaultPort = defaultPort;
        }

        public int defaultPort() {
            return defaultPort;
        }
    }

    /**
     * A syslog collector (an IHE Audit Record Repository).
     *
     * @param host its host name or address
     * @param port its port
     * @param protocol TLS, TCP or UDP
     * @param tls key material for TLS (required with {@link Protocol#TLS}, absent otherwise)
     */
    public record Syslog(String host, int port, Protocol protocol, Optional<Tls> tls) {
        public Syslog {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(tls, "tls");
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1-65535: " + port);
            }
            if ((protocol == Protocol.TLS) != tls.isPresent()) {
                throw new IllegalArgumentException("TLS key material goes with protocol TLS, and only with it");
            }
        }

        @Override
        public String toString() {
            return protocol.name().toLowerCase(java.util.Locale.ROOT) + "://" + host + ":" + port;
        }
    }

    /**
     * TLS towards the collector (TLS 1.3/1.2 as {@code TlsProfile} says; the collector's certificate
     * must be trusted by {@code trustStore} and name {@link Syslog#host()}).
     *
     * @param trustStore PKCS#12 trust store of the collector's certificate or its CA
     * @param trustStorePassword its password
     * @param keyStore PKCS#12 key store with the node's client certificate (IHE ATNA authenticates both ends)
     * @param keyStorePassword its password (and its key's)
     */
    public record Tls(Path trustStore, char[] trustStorePassword, Optional<Path> keyStore, char[] keyStorePassword) {
        public Tls {
            Objects.requireNonNull(trustStore, "trustStore");
            Objects.requireNonNull(trustStorePassword, "trustStorePassword");
            Objects.requireNonNull(keyStore, "keyStore");
            Objects.requireNonNull(keyStorePassword, "keyStorePassword");
        }
    }

    /**
     * Timeouts and pacing.
     *
     * @param connectTimeout connecting (and the TLS handshake) to the collector
     * @param writeTimeout longest a send may block (a collector that stops reading): then the
     *     connection is closed and the message sent again on a new one
     * @param retryInitial wait after the first failure to reach the collector, doubled per failure
     * @param retryMax longest wait between attempts
     * @param poll how often the spool is looked at when idle (for messages another process, e.g.
     *     {@code ct-triage dead-letters}, left there)
     * @param closeGrace how long closing waits for the collector to take what is spooled; the rest
     *     is sent at the next start
     */
    public record Timing(Duration connectTimeout, Duration writeTimeout, Duration retryInitial, Duration retryMax,
            Duration poll, Duration closeGrace) {
        /** The node's: 5 s to connect, 10 s per send, retries from 1 s doubling to 30 s, polled every second, 5 s to close. */
        public static Timing defaults() {
            return new Timing(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(1),
                    Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofSeconds(5));
        }
    }
}
