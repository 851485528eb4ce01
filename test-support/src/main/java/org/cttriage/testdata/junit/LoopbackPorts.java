package org.cttriage.testdata.junit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * Free TCP ports on 127.0.0.1 for peers that cannot be told to listen on port 0 and report the
 * port they got (dcmtk's storescp, Orthanc). The port is free when this returns; another process
 * may take it before the peer binds it, so callers that start a peer retry with a new port when
 * the peer reports its port in use.
 */
public final class LoopbackPorts {
    private LoopbackPorts() {
    }

    /** The loopback address every test peer is addressed at. */
    public static final String HOST = "127.0.0.1";

    /** A port that was free on 127.0.0.1 a moment ago. */
    public static int free() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind an ephemeral port on " + HOST, e);
        }
    }
}
