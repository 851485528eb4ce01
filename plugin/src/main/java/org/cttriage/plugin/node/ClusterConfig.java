package org.cttriage.plugin.node;

import java.time.Duration;
import java.util.Objects;
import org.cttriage.core.node.NodeRole;

/**
 * The multi-node mode's settings ({@code node.role}, {@code cluster.*}; docs/configuration.md): a node
 * of role {@code ALL} needs none of the rest.
 *
 * @param role          what this node does
 * @param brokerUrl     the Artemis broker (CORE protocol URL, e.g. {@code tcp://broker:61616})
 * @param brokerUser    its user
 * @param brokerPassword its password
 * @param nodeName      this node's name in the log and the leader's messages
 * @param leaderCheck   how often each node tries to become the leader (and the leader checks it still is)
 * @param requeueAfter  a queued study still not triaged this long after is queued again
 * @param triageConsumers how many studies a worker triages at once
 * @param deliveryClaim how long a worker's claim on a delivery lasts (longer than any attempt): how long a delivery
 *     claimed by a worker that died waits for another
 */
public record ClusterConfig(NodeRole role, String brokerUrl, String brokerUser, String brokerPassword, String nodeName,
        Duration leaderCheck, Duration requeueAfter, int triageConsumers, Duration deliveryClaim) {
    /** The single node: no broker, no leader; claims as the ledger's default (released at each start anyway). */
    public static final ClusterConfig SINGLE = new ClusterConfig(NodeRole.ALL, null, null, null, "single",
            Duration.ofSeconds(5), Duration.ofMinutes(30), 1, org.cttriage.core.node.DeliveryLedger.CLAIM);

    public ClusterConfig {
        Objects.requireNonNull(role, "role");
        if (role != NodeRole.ALL) {
            Objects.requireNonNull(brokerUrl, "cluster.broker-url");
        }
    }

    /** Whether this node is one of a cluster (any role but {@code ALL}). */
    public boolean clustered() {
        return role != NodeRole.ALL;
    }
}
