package org.cttriage.routes.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.Outbox;
import org.cttriage.testdata.junit.ArtemisServer;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outbox's relay through a real Artemis broker: what the broker acknowledged survives the broker's SIGKILL
 * and restart, and what could not be sent while it was down stays in the outbox until it is back.
 */
@Tag("interop")
class BrokerLinkTest {
    private static final Instant NOW = Instant.parse("2026-12-04T09:00:00Z");
    private static final String QUEUE = "ct-triage.triage";

    @TempDir
    Path dir;

    @Test
    void acknowledgedMessagesSurviveABrokerCrashAndUnsentOnesWaitInTheOutbox() throws Exception {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:" + dir.resolve("node"));
        h2.setUser("sa");
        NodeDatabase database = new NodeDatabase(h2);
        database.migrate();
        Outbox outbox = new Outbox(database, false);
        add(database, "study 1", "study 2", "study 3");

        try (ArtemisServer broker = ArtemisServer.create(dir);
             BrokerLink link = new BrokerLink(broker.url(), broker.user(), broker.password())) {
            assertThat(outbox.relay(link, 10)).isEqualTo(3);
            assertThat(outbox.waiting(10)).isEmpty();

            // The broker crashes after acknowledging them, before anyone consumed them.
            broker.kill();
            add(database, "study 4", "study 5");
            assertThat(outbox.relay(link, 10)).as("nothing sent while the broker is down").isZero();
            assertThat(outbox.waiting(10)).extracting(Outbox.Message::body).containsExactly("study 4", "study 5");

            broker.start();
            assertThat(outbox.relay(link, 10)).as("sent once the broker is back").isEqualTo(2);
            assertThat(receiveAll(broker)).containsExactly("study 1", "study 2", "study 3", "study 4", "study 5");
        }
    }

    private static void add(NodeDatabase database, String... bodies) throws Exception {
        database.transaction(c -> {
            for (String b : bodies) {
                Outbox.add(c, QUEUE, b, NOW);
            }
            return null;
        });
    }

    private static List<String> receiveAll(ArtemisServer broker) throws Exception {
        List<String> out = new ArrayList<>();
        try (ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(broker.url());
             Connection c = factory.createConnection(broker.user(), broker.password())) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue(QUEUE));
            for (TextMessage m = (TextMessage) consumer.receive(10_000); m != null;
                    m = (TextMessage) consumer.receive(1_000)) {
                out.add(m.getText());
            }
        }
        return out;
    }
}
