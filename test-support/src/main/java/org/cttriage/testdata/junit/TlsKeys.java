package org.cttriage.testdata.junit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Throw-away TLS key material for tests, made by {@code keytool} and {@code openssl} (so a test
 * class using it declares both in {@code @RequiresTools}). Every store is PKCS#12 with the
 * password {@link #PASSWORD}; certificates are self-signed RSA 2048 / SHA-256, valid two days.
 * <ul>
 * <li>{@code server}: CN=localhost, SAN ip:127.0.0.1 and dns:localhost (what the node or a
 * peer presents on loopback);
 * <li>{@code elsewhere}: CN=pacs.elsewhere.example, SAN dns:pacs.elsewhere.example only (trusted,
 * but names another host);
 * <li>{@code client}: CN=pacs, no SAN (a client certificate).
 * </ul>
 * Trust stores: {@link #serverTrustStore()} trusts {@code server} and {@code elsewhere},
 * {@link #clientTrustStore()} trusts {@code client} only.
 */
public final class TlsKeys {
    /** Password of every store (and key). */
    public static final String PASSWORD = "changeit";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final Path dir;

    private TlsKeys(Path dir) {
        this.dir = dir;
    }

    /** Makes all the key material in {@code dir} (a folder the caller owns, e.g. a JUnit {@code @TempDir}). */
    public static TlsKeys create(Path dir) throws IOException, InterruptedException {
        TlsKeys keys = new TlsKeys(dir);
        keys.identity("server", "CN=localhost", "SAN=ip:127.0.0.1,dns:localhost");
        keys.identity("elsewhere", "CN=pacs.elsewhere.example", "SAN=dns:pacs.elsewhere.example");
        keys.identity("client", "CN=pacs", null);
        keys.trust("servers", "server", "elsewhere");
        keys.trust("clients", "client");
        return keys;
    }

    private void identity(String name, String dname, String extension) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize",
                "2048", "-sigalg", "SHA256withRSA", "-dname", dname, "-validity", "2", "-storetype", "PKCS12",
                "-keystore", file(name + ".p12"), "-storepass", PASSWORD));
        if (extension != null) {
            args.addAll(List.of("-ext", extension));
        }
        keytool(args);
        keytool(List.of("-exportcert", "-rfc", "-alias", name, "-keystore", file(name + ".p12"), "-storepass",
                PASSWORD, "-file", file(name + ".pem")));
        run(List.of("openssl", "pkcs12", "-in", file(name + ".p12"), "-nocerts", "-nodes", "-out",
                file(name + ".key"), "-passin", "pass:" + PASSWORD));
    }

    private void trust(String store, String... names) throws IOException, InterruptedException {
        for (String name : names) {
            keytool(List.of("-importcert", "-noprompt", "-alias", name, "-file", file(name + ".pem"), "-storetype",
                    "PKCS12", "-keystore", file(store + ".p12"), "-storepass", PASSWORD));
        }
    }

    /** The PKCS#12 key store of {@code server} (CN=localhost, SAN 127.0.0.1 and localhost). */
    public Path serverKeyStore() {
        return dir.resolve("server.p12");
    }

    /** {@code server}'s certificate, PEM. */
    public Path serverCertificate() {
        return dir.resolve("server.pem");
    }

    /** {@code server}'s private key, unencrypted PEM (for dcmtk). */
    public Path serverKey() {
        return dir.resolve("server.key");
    }

    /** The key store of {@code elsewhere}: trusted by {@link #serverTrustStore()}, names another host. */
    public Path elsewhereKeyStore() {
        return dir.resolve("elsewhere.p12");
    }

    /** {@code elsewhere}'s certificate, PEM. */
    public Path elsewhereCertificate() {
        return dir.resolve("elsewhere.pem");
    }

    /** The key store of {@code client} (CN=pacs). */
    public Path clientKeyStore() {
        return dir.resolve("client.p12");
    }

    /** {@code client}'s certificate, PEM. */
    public Path clientCertificate() {
        return dir.resolve("client.pem");
    }

    /** {@code client}'s private key, unencrypted PEM (for dcmtk). */
    public Path clientKey() {
        return dir.resolve("client.key");
    }

    /** Trusts {@code server} and {@code elsewhere}: what a client of our test servers uses. */
    public Path serverTrustStore() {
        return dir.resolve("servers.p12");
    }

    /** Trusts {@code client} only: for a server checking client certificates, and as a store that trusts no server. */
    public Path clientTrustStore() {
        return dir.resolve("clients.p12");
    }

    /** The SHA-256 fingerprint of the PEM certificate {@code pem}, as lower-case hex. */
    public static String sha256(Path pem) throws IOException {
        try (InputStream in = Files.newInputStream(pem)) {
            byte[] der = CertificateFactory.getInstance("X.509").generateCertificate(in).getEncoded();
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(der));
        } catch (CertificateException | NoSuchAlgorithmException e) {
            throw new IOException("cannot fingerprint " + pem, e);
        }
    }

    private String file(String name) {
        return dir.resolve(name).toString();
    }

    private static void keytool(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("keytool");
        command.addAll(args);
        run(command);
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, command);
        if (r.exitCode() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + r.exitCode() + ":\n" + r.output());
        }
    }
}
