package org.cttriage.plugin.cli;

import java.time.Clock;
import javax.sql.DataSource;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.WorklistRepository;
import org.cttriage.plugin.node.Destination;
import org.cttriage.plugin.node.NodeSettings;
import org.cttriage.ups.UpsExporter;
import org.cttriage.ups.UpsOptions;

/** Builds the node's UPS-RS delivery lane (exporter and retry policy) from the {@code ups.*} keys of the configuration. */
final class UpsWiring {
    private UpsWiring() {
    }

    /**
     * The validated options, as {@code serve} and {@code config check} read them; the SR's retrieve AE title defaults
     * to the first DICOM destination's, where the SR is stored.
     */
    static UpsOptions options(NodeSettings settings) throws TriageException {
        String firstPacs = settings.destinations().stream().filter(Destination::isDicom).findFirst()
                .map(d -> d.dicom().aeTitle()).orElse("");
        try {
            return UpsOptions.fromConfig(settings.upsLookup(), firstPacs);
        } catch (IllegalArgumentException e) {
            throw new TriageException(ErrorCode.CONFIGURATION_INVALID, e.getMessage(), e);
        }
    }

    /**
     * The lane. It sends the study's priority as the worklist holds it in {@code dataSource} (raised by results,
     * lowered only by a person), and the exporter never lowers a workitem's priority itself.
     */
    static DeliveryScheduler.Lane lane(NodeSettings settings, DataSource dataSource) throws TriageException {
        WorklistRepository worklist = new WorklistRepository(new NodeDatabase(dataSource));
        UpsExporter exporter = new UpsExporter(options(settings), Clock.systemUTC(), worklist::find);
        return new DeliveryScheduler.Lane(Destination.UPS, exporter, exporter.retryPolicy());
    }
}
