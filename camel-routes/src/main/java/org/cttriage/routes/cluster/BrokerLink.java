package org.cttriage.routes.cluster;

import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.cttriage.core.error.ErrorCode;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.cttriage.core.node.Outbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's link to the Artemis broker of the multi-node mode, as the outbox's publisher: each
 * message is sent persistent and the send returns once the broker has written it to its journal
 * (Artemis's blocking durable send, the client's default), so a row leaves the outbox only when
 * the broker has it. One connection, opened on first use and again after a failure. It also runs
 * the workers' consumers ({@link #consume}).
 */
public final class BrokerLink implements Outbox.Publisher, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerLink.class);

    private final ActiveMQConnectionFactory factory;
    private final String user;
    private final String password;
    private Connection connection;
    private Session session;

    /**
     * @param url the broker's URL for the CORE protocol, e.g. {@code tcp://broker:61616} (Artemis URL
     *     parameters allowed, e.g. a list of servers for a primary/backup pair)
     */
    public BrokerLink(String url, String user, String password) {
        this.factory = new ActiveMQConnectionFactory(url);
        this.factory.setBlockOnDurableSend(true);
        this.user = user;
        this.password = password;
    }

    @Override
    public synchronized void publish(String queue, String body) throws JMSException {
        try {
            if (session == null) {
                connection = factory.createConnection(user, password);
                session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            }
            try (MessageProducer producer = session.createProducer(session.createQueue(queue))) {
                producer.setDeliveryMode(DeliveryMode.PERSISTENT);
                TextMessage m = session.createTextMessage(body);
                producer.send(m);
            }
        } catch (JMSException | RuntimeException e) {
            closeQuietly();
            throw e;
        }
    }

    /** Handles one message's body; a normal return acknowledges it, an exception has it delivered again. */
    @FunctionalInterface
    public interface Handler {
        void handle(String body) throws Exception;
    }

    /** Consumers started by {@link #consume}; closing stops them after the message each is handling. */
    public final class Consumers implements AutoCloseable {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();

        @Override
        public void close() {
            running.set(false);
            for (Thread t : threads) {
                try {
                    t.join(Duration.ofSeconds(30).toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * Starts {@code concurrency} consumers of {@code queue}, each on its own connection and transacted
     * session: a message is taken, handled, and only then committed (acknowledged). A consumer that
     * dies with its process leaves its message unacknowledged, and the broker gives it to another
     * consumer once the connection is gone; a handler that throws rolls back, so the broker delivers
     * it again (and, after its redelivery limit, to its dead-letter address). A consumer whose
     * connection fails reconnects with back-off (1 s doubling to 5 s) and logs it once per outage.
     */
    public Consumers consume(String queue, int concurrency, Handler handler) {
        Consumers consumers = new Consumers();
        for (int i = 0; i < concurrency; i++) {
            Thread t = new Thread(() -> consumeLoop(queue, handler, consumers.running), "broker-" + queue + "-" + i);
            t.setDaemon(true);
            consumers.threads.add(t);
            t.start();
        }
        return consumers;
    }

    private void consumeLoop(String queue, Handler handler, AtomicBoolean running) {
        long backoff = 1000;
        boolean outage = false;
        while (running.get()) {
            try (Connection c = factory.createConnection(user, password)) {
                Session session = c.createSession(true, Session.SESSION_TRANSACTED);
                MessageConsumer consumer = session.createConsumer(session.createQueue(queue));
                c.start();
                if (outage) {
                    LOG.info("broker reachable again: consuming {}", queue);
                    outage = false;
                }
                backoff = 1000;
                while (running.get()) {
                    Message m = consumer.receive(1000);
                    if (m == null) {
                        continue;
                    }
                    try {
                        handler.handle(((TextMessage) m).getText());
                        session.commit();
                    } catch (JMSException e) {
                        throw e;
                    } catch (Exception e) {
                        LOG.warn("{} handling a message of {} failed; it will be delivered again: {}",
                                ErrorCode.TRIAGE_FAILED.code(), queue, e.toString());
                        session.rollback();
                    }
                }
            } catch (JMSException | RuntimeException e) {
                if (!outage) {
                    LOG.warn("{} consuming {}: the broker connection failed, retrying: {}",
                            ErrorCode.BROKER_UNAVAILABLE.code(), queue, e.toString());
                    outage = true;
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
                backoff = Math.min(5_000, backoff * 2);
            }
        }
    }

    private void closeQuietly() {
        if (connection != null) {
            try {
                connection.close();
            } catch (JMSException e) {
                LOG.debug("closing the broker connection: {}", e.toString());
            }
        }
        connection = null;
        session = null;
    }

    @Override
    public synchronized void close() {
        closeQuietly();
        factory.close();
    }
}
