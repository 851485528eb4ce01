/**
 * The node's durable state and the steps the routes orchestrate: recording received instances
 * (persist before acknowledging), triaging a complete series exactly once per distinct input,
 * and the delivery ledger with its dead letters. Plain JDBC over whatever {@link javax.sql.DataSource}
 * the node configures (embedded H2 by default, PostgreSQL in production); no Camel. Each table's
 * SQL lives in its repository ({@link org.cttriage.core.node.SeriesRepository},
 * {@link org.cttriage.core.node.InstanceRepository}, {@link org.cttriage.core.node.ResultRepository},
 * {@link org.cttriage.core.node.DeliveryLedger}); the services call them.
 */
package org.cttriage.core.node;
