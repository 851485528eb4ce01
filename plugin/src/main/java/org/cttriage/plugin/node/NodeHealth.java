package org.cttriage.plugin.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.ServiceStatus;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;

/**
 * Whether the node can do its job, check by check, for {@code GET /health/ready}: the database answers, the DICOM
 * listener is bound, the model is loaded, free disk is above the watermark at which associations are refused, and
 * no delivery has waited past {@code health.stuck-delivery}. The details carry counts, ports and times, never
 * patient data (the endpoint needs no login).
 */
public final class NodeHealth {
    /** A check's verdict. */
    public enum Status { UP, DOWN }

    /** One check: its name, verdict and a line for an operator. */
    public record Check(String name, Status status, String detail) {
    }

    /** Every check, and UP only when all are. */
    public record Report(Status status, List<Check> checks) {
    }

    private final TriageNode node;
    private final InferenceEngine engine;
    private final Duration stuckAfter;
    private final Clock clock;

    public NodeHealth(TriageNode node, InferenceEngine engine, Duration stuckAfter, Clock clock) {
        this.node = node;
        this.engine = engine;
        this.stuckAfter = stuckAfter;
        this.clock = clock;
    }

    /** Runs every check now. */
    public Report ready() {
        List<Check> checks = new java.util.ArrayList<>(List.of(database()));
        if (node.cluster().role().receives()) {
            checks.add(listener());
        }
        if (engine != null) {
            checks.add(model());
        }
        checks.addAll(List.of(disk(), deliveries()));
        boolean up = checks.stream().allMatch(c -> c.status() == Status.UP);
        return new Report(up ? Status.UP : Status.DOWN, checks);
    }

    private Check database() {
        try {
            boolean valid = node.database().transaction(c -> c.isValid(5));
            return valid ? new Check("database", Status.UP, "answers")
                    : new Check("database", Status.DOWN, ErrorCode.NODE_DATABASE_FAILED.code() + " connection not valid");
        } catch (TriageException e) {
            return new Check("database", Status.DOWN, e.getMessage());
        } catch (RuntimeException e) {
            // A pool that is closed or broken throws unchecked.
            return new Check("database", Status.DOWN, ErrorCode.NODE_DATABASE_FAILED.code() + " " + e.getMessage());
        }
    }

    private Check listener() {
        ServiceStatus status = node.camel().getRouteController().getRouteStatus("dicom-ingest");
        if (status == null || !status.isStarted()) {
            return new Check("dicom-listener", Status.DOWN, "listener route " + (status == null ? "absent" : status));
        }
        return new Check("dicom-listener", Status.UP, node.config().aeTitle() + " on " + node.config().bindAddress() + ":"
                + node.port());
    }

    private Check model() {
        return new Check("model", Status.UP, engine.modelPackage().identity().name() + " "
                + engine.modelPackage().identity().version() + " on " + engine.device());
    }

    private Check disk() {
        Path data = node.config().dataDirectory();
        try {
            long free = Files.getFileStore(data).getUsableSpace();
            long watermark = node.config().minFreeDiskBytes();
            String detail = (free >> 20) + " MB free, associations refused below " + (watermark >> 20) + " MB";
            return new Check("disk", free >= watermark ? Status.UP : Status.DOWN,
                    detail);
        } catch (IOException e) {
            return new Check("disk", Status.DOWN, "free space of the data folder unknown: " + e.getMessage());
        }
    }

    private Check deliveries() {
        DeliveryLedger.Totals summary;
        try {
            summary = node.ledger().totals();
        } catch (TriageException e) {
            return new Check("deliveries", Status.DOWN, e.getMessage());
        } catch (RuntimeException e) {
            return new Check("deliveries", Status.DOWN, ErrorCode.NODE_DATABASE_FAILED.code() + " " + e.getMessage());
        }
        int pending = summary.byState().get(DeliveryState.PENDING);
        int dead = summary.byState().get(DeliveryState.DEAD);
        String counts = pending + " pending, " + dead + " dead letter(s)";
        if (summary.oldestPending().isPresent()) {
            Instant oldest = summary.oldestPending().get();
            Duration waited = Duration.between(oldest, clock.instant());
            if (waited.compareTo(stuckAfter) > 0) {
                return new Check("deliveries", Status.DOWN, counts + "; the oldest pending since " + oldest + ", longer than "
                        + "health.stuck-delivery (" + stuckAfter + ")");
            }
            return new Check("deliveries", Status.UP, counts + "; the oldest pending since " + oldest);
        }
        return new Check("deliveries", Status.UP, counts);
    }
}
