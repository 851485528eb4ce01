package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DICOM exporter sends every file of a result (SR, SEG, KOS) on one association to dcmtk's storescp, and a
 * result with any of its files gone is rejected before anything is sent: a PACS never gets part of a result.
 */
@RequiresTools("storescp")
class DicomExporterTest {
    @TempDir
    Path dir;

    @Test
    void everyObjectOfTheResultIsStoredOrTheDeliveryIsNotDone() throws Exception {
        // Three stored instances stand for the SR, SEG and KOS: the exporter sends files, whatever their class.
        List<Path> files = PhantomSeries.write(7, 32, 3, 5, dir.resolve("result")).files();
        try (StoreScp scp = StoreScp.start("PACS", dir.resolve("scp"))) {
            DicomExporter exporter = new DicomExporter("CTTRIAGE", new RemoteAe(scp.aet(), scp.host(), scp.port()),
                    Optional.empty());
            Exporter.Attempt sent = exporter.attempt(delivery(files));
            assertThat(sent).isInstanceOf(Exporter.Attempt.Delivered.class);
            assertThat(scp.receivedFiles()).as(scp.log()).hasSize(3);

            List<Path> oneGone = new ArrayList<>(files);
            Files.delete(oneGone.get(1));
            Exporter.Attempt refused = exporter.attempt(delivery(oneGone));
            assertThat(refused).isInstanceOfSatisfying(Exporter.Attempt.Rejected.class,
                    r -> assertThat(r.error()).startsWith("TRIAGE-0610").contains(oneGone.get(1).toString()));
            assertThat(scp.receivedFiles()).as("nothing more sent").hasSize(3);
        }
    }

    private static DeliveryLedger.Delivery delivery(List<Path> files) {
        return new DeliveryLedger.Delivery(1, 1, "pacs", DeliveryState.PENDING, 0, null, new SeriesKey("1.2.3", "1.2.3.4"),
                files.get(0), "{}", Instant.EPOCH, null, null, null, files);
    }
}
