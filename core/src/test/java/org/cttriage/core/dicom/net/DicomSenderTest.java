package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sender over plain TCP, on the connection it opens itself ({@code CtTriageRequestor}):
 * C-ECHO and C-STORE to our listener and to dcmtk's storescp, and a rejected association.
 */
@RequiresTools({"storescp", "echoscu"})
class DicomSenderTest {
    @TempDir
    Path dir;

    private DicomListener listener;
    private final List<ReceivedInstance> received = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
        }
    }

    @Test
    void echoesAndStoresToOurListener() throws Exception {
        RemoteAe peer = listen(Set.of());
        DicomSender sender = new DicomSender("NODE");
        sender.echo(peer);
        List<Path> files = PhantomSeries.write(7, 32, 3, 5, dir.resolve("series")).files();
        sender.store(peer, files);
        assertThat(received).extracting(ReceivedInstance::sopInstanceUid).hasSize(3).doesNotHaveDuplicates();
    }

    @Test
    void storesToDcmtkStorescp() throws Exception {
        try (StoreScp scp = StoreScp.start("PACS", dir.resolve("scp"))) {
            RemoteAe peer = new RemoteAe(scp.aet(), scp.host(), scp.port());
            new DicomSender("NODE").echo(peer);
            new DicomSender("NODE").store(peer, PhantomSeries.write(7, 32, 2, 5, dir.resolve("series")).files());
            assertThat(scp.receivedFiles()).as(scp.log()).hasSize(2);
        }
    }

    @Test
    void aRejectedAssociationIsReportedWithTheReason() throws Exception {
        RemoteAe peer = listen(Set.of("MODALITY"));
        assertThatThrownBy(() -> new DicomSender("NODE").echo(peer))
                .isInstanceOfSatisfying(TriageException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.ECHO_FAILED);
                    assertThat(e.getMessage()).contains("A-ASSOCIATE-RJ");
                });
        assertThatThrownBy(() -> new DicomSender("NODE").store(peer,
                PhantomSeries.write(7, 32, 1, 5, dir.resolve("series")).files()))
                .isInstanceOfSatisfying(TriageException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.DICOM_DELIVERY_FAILED);
                    assertThat(e.getMessage()).contains("A-ASSOCIATE-RJ");
                });
        assertThat(received).isEmpty();
    }

    /**
     * A peer that accepts the TCP connection and never answers: the attempt fails with its code
     * once the answer timeout passes (60 s in the node, 1 s here), instead of holding the delivery
     * thread for ever as it did.
     */
    @Test
    void aPeerThatAcceptsAndNeverAnswersFailsTheAttempt() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            RemoteAe peer = new RemoteAe("SILENT", "127.0.0.1", silent.getLocalPort());
            DicomSender sender = new DicomSender("NODE", java.util.Optional.empty(), java.time.Duration.ofSeconds(5),
                    java.time.Duration.ofSeconds(1));
            assertThatThrownBy(() -> sender.echo(peer)).isInstanceOfSatisfying(TriageException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.ECHO_FAILED));
            assertThatThrownBy(() -> sender.store(peer, PhantomSeries.write(7, 32, 1, 5, dir.resolve("s")).files()))
                    .isInstanceOfSatisfying(TriageException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.DICOM_DELIVERY_FAILED));
        }
    }

    private RemoteAe listen(Set<String> allowedCallers) throws Exception {
        ListenerOptions options = ListenerOptions.defaults("CTTRIAGE", InetAddress.getLoopbackAddress(), 0,
                dir.resolve("incoming")).withAllowedCallingAeTitles(allowedCallers);
        listener = new DicomListener(options, new AssociationPolicy(options), instance -> {
            received.add(instance);
            return DimseStatus.SUCCESS;
        });
        listener.start();
        return new RemoteAe("CTTRIAGE", "127.0.0.1", listener.port());
    }
}
