package org.cttriage.routes.cluster;

import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.cttriage.core.node.Outbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's link to the Artemis broker of the multi-node mode, as the outbox's publisher: each
 * message is sent persistent and the send returns once the broker has written it to its journal
 * (Artemis's blocking durable send, the client's default), so a row leaves the outbox only when
 * the broker has it. One connection, opened on first use and again after a failure.
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
