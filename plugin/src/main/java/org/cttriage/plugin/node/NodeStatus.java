package org.cttriage.plugin.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.util.Map;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.ResultRepository;

/**
 * {@code GET /status}: what an operator asks the running node on the command line ({@code ct-triage status}): who it
 * is, its readiness checks, its queues and its most recent results. No patient data and no study identifiers (the
 * endpoint needs no login): a result is its time, priority, the findings called present and each delivery's state.
 * Per-study detail is {@code ct-triage studies} on the node's machine.
 */
public final class NodeStatus {
    /** Recent results shown. */
    static final int RECENT = 10;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TriageNode node;
    private final NodeHealth health;
    private final ResultRepository results;
    private final Clock clock;

    public NodeStatus(TriageNode node, NodeHealth health, Clock clock) {
        this.node = node;
        this.health = health;
        this.results = new ResultRepository(node.database());
        this.clock = clock;
    }

    /** The status now. */
    public ObjectNode now() {
        ObjectNode body = JSON.createObjectNode();
        body.put("time", clock.instant().toString());
        String version = NodeStatus.class.getPackage().getImplementationVersion();
        body.put("version", version == null ? "(development build)" : version);
        ObjectNode dicom = body.putObject("dicom");
        dicom.put("aeTitle", node.config().aeTitle());
        dicom.put("port", node.port());
        dicom.put("activeAssociations", node.activeAssociations());
        body.set("health", NodeHttpServer.json(health.ready()));
        ObjectNode queues = body.putObject("queues");
        queues.put("waitingForTriage", node.triageQueueDepth());
        ObjectNode lanes = queues.putObject("deliveryLanes");
        node.deliveryLaneDepths().forEach(lanes::put);
        ArrayNode recent = body.putArray("recentResults");
        try {
            for (ResultRepository.RecentResult r : results.recent(RECENT)) {
                ObjectNode line = recent.addObject();
                line.put("recorded", r.recorded().toString());
                line.put("priority", r.priority());
                line.put("superseded", r.superseded());
                ArrayNode present = line.putArray("findingsPresent");
                presentFindings(r.resultJson()).forEach(present::add);
                ObjectNode deliveries = line.putObject("deliveries");
                for (Map.Entry<String, String> d : r.deliveries().entrySet()) {
                    deliveries.put(d.getKey(), d.getValue().toLowerCase(java.util.Locale.ROOT));
                }
            }
        } catch (TriageException e) {
            body.put("recentResultsError", e.getMessage());
        }
        return body;
    }

    /** The ids of the findings a stored result calls present (its {@code findings[].present}). */
    static java.util.List<String> presentFindings(String resultJson) {
        java.util.List<String> ids = new java.util.ArrayList<>();
        try {
            for (JsonNode f : JSON.readTree(resultJson).path("findings")) {
                if (f.path("present").asBoolean(false)) {
                    ids.add(f.path("id").asText());
                }
            }
        } catch (java.io.IOException e) {
            ids.add("(result unreadable: " + e.getClass().getSimpleName() + ")");
        }
        return ids;
    }
}
