package org.cttriage.hl7.delivery;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.Objects;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.mllp.MllpAcknowledgementTimeoutException;
import org.apache.camel.component.mllp.MllpComponent;
import org.apache.camel.component.mllp.MllpConstants;
import org.apache.camel.component.mllp.MllpException;
import org.apache.camel.component.mllp.MllpInvalidAcknowledgementException;
import org.apache.camel.component.mllp.MllpNegativeAcknowledgementException;
import org.apache.camel.impl.DefaultCamelContext;

/**
 * One HL7 message to one MLLP peer and its acknowledgement, over Camel's {@code mllp} producer: MLLP framing, the
 * connect timeout, the wait for the acknowledgement and the classification of its MSA-1, with {@code logPhi} off so
 * that no message or acknowledgement content reaches a log or an exception message. The connection is kept between
 * messages, as MLLP peers expect; the producer reconnects when the peer closed it meanwhile (and then writes the
 * message again within the same call: a peer that read it and closed before answering may see it twice, which an
 * XO order change survives).
 *
 * <p>A Camel context of its own, with the one component and no routes: the delivery lanes call exporters directly,
 * not from a route, and the exporter must work and be tested without the node's context.
 */
final class MllpClient implements AutoCloseable {
    /** What came back. */
    sealed interface Answer permits Answer.Acknowledged, Answer.NoAnswer {
        /**
         * The peer answered.
         *
         * @param type MSA-1 as Camel read it: AA, AE, AR, CA, CE, CR, or "" when no MSA was found
         * @param text the acknowledgement's text (may hold patient data: never log it), or "" when unreadable
         */
        record Acknowledged(String type, String text) implements Answer {
        }

        /**
         * No acknowledgement: connection refused or reset, timeout, a frame that is not MLLP.
         *
         * @param why what happened, without message content
         */
        record NoAnswer(String why) implements Answer {
        }
    }

    private final DefaultCamelContext camel;
    private final ProducerTemplate template;
    private final Endpoint endpoint;
    private final String peer;
    private final Duration ackTimeout;

    MllpClient(String host, int port, Duration connectTimeout, Duration ackTimeout) {
        Objects.requireNonNull(host, "host");
        this.peer = host + ":" + port;
        this.ackTimeout = ackTimeout;
        camel = new DefaultCamelContext();
        camel.getCamelContextExtension().setName("ct-triage-hl7");
        MllpComponent mllp = new MllpComponent();
        // camel-mllp logs and puts message bytes into its exceptions unless told not to (its default is true).
        mllp.setLogPhi(false);
        camel.addComponent("mllp", mllp);
        camel.start();
        template = camel.createProducerTemplate();
        // receiveTimeout: the wait for the acknowledgement's first byte; readTimeout: the longest silence within it.
        endpoint = camel.getEndpoint("mllp://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port
                + "?connectTimeout=" + connectTimeout.toMillis() + "&receiveTimeout=" + ackTimeout.toMillis()
                + "&readTimeout=" + ackTimeout.toMillis() + "&hl7Headers=false&validatePayload=false"
                + "&exchangePattern=InOut&keepAlive=true&tcpNoDelay=true");
    }

    /** Sends {@code message} (ER7 bytes in {@code charset}) and waits for its acknowledgement. */
    Answer send(byte[] message, Charset charset) {
        Exchange exchange = template.send(endpoint, e -> {
            e.getMessage().setBody(message);
            e.setProperty(Exchange.CHARSET_NAME, charset.name());
        });
        Exception failure = exchange.getException();
        if (failure == null) {
            String type = exchange.getMessage().getHeader(MllpConstants.MLLP_ACKNOWLEDGEMENT_TYPE, "", String.class);
            String text = exchange.getMessage().getHeader(MllpConstants.MLLP_ACKNOWLEDGEMENT_STRING, "", String.class);
            return new Answer.Acknowledged(type, text);
        }
        if (failure instanceof MllpNegativeAcknowledgementException nack) {
            return new Answer.Acknowledged(nack.getAcknowledgmentType(), text(nack, charset));
        }
        if (failure instanceof MllpAcknowledgementTimeoutException) {
            return new Answer.NoAnswer("no acknowledgement from " + peer + " within "
                    + org.cttriage.core.config.DurationSyntax.format(ackTimeout));
        }
        if (failure instanceof MllpInvalidAcknowledgementException invalid) {
            // An answer, but no acknowledgement code Camel recognises: read it ourselves (Acknowledgement).
            return new Answer.Acknowledged("", text(invalid, charset));
        }
        return new Answer.NoAnswer(describe(failure));
    }

    private String describe(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                return "cannot connect to " + peer + ": connection refused";
            }
            if (t instanceof SocketTimeoutException) {
                return "cannot connect to " + peer + ": timed out";
            }
            if (t instanceof UnknownHostException) {
                return "cannot connect to " + peer + ": unknown host";
            }
            if (t instanceof NoRouteToHostException) {
                return "cannot connect to " + peer + ": no route to host";
            }
        }
        // With logPhi off an MllpException's message names the exchange and the socket, never content.
        return "MLLP exchange with " + peer + " failed: " + failure.getMessage();
    }

    private static String text(MllpException e, Charset charset) {
        return e.hasHl7AcknowledgementBytes() ? new String(e.getHl7AcknowledgementBytes(), charset) : "";
    }

    @Override
    public void close() {
        // stop, not close: CamelContext.close declares IOException, and stopping releases the producer's socket.
        camel.stop();
    }
}
