package org.cttriage.plugin.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * One HTTP exchange on the node's server (Jetty 12 core), with blocking helpers: handlers run on the server's
 * thread pool and answer once. Every answer says {@code Cache-Control: no-store} (patient data is never cached) and
 * carries the usual browser hardening headers.
 */
public final class WebExchange {
    /** Bodies larger than this are refused (413): a login or a review is a few hundred bytes. */
    static final int MAX_BODY = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Request request;
    private final Response response;
    private final Callback callback;
    private boolean answered;

    public WebExchange(Request request, Response response, Callback callback) {
        this.request = request;
        this.response = response;
        this.callback = callback;
    }

    public String method() {
        return request.getMethod();
    }

    public String path() {
        return request.getHttpURI().getPath();
    }

    public Optional<String> query(String name) {
        Fields fields = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
        return Optional.ofNullable(fields.getValue(name));
    }

    public Optional<String> header(String name) {
        return Optional.ofNullable(request.getHeaders().get(name));
    }

    public Optional<String> cookie(String name) {
        return Request.getCookies(request).stream().filter(c -> c.getName().equals(name)).map(HttpCookie::getValue)
                .findFirst();
    }

    public boolean secure() {
        return request.isSecure();
    }

    public String remoteAddress() {
        return Request.getRemoteAddr(request);
    }

    /** The request body as text, at most {@link #MAX_BODY} bytes. */
    public String body() throws IOException {
        long length = request.getLength();
        if (length > MAX_BODY) {
            throw new BodyTooLarge();
        }
        String body = Content.Source.asString(request, StandardCharsets.UTF_8);
        if (body.length() > MAX_BODY) {
            throw new BodyTooLarge();
        }
        return body;
    }

    /** The request body as JSON; {@link BadRequest} when it is not a JSON object. */
    public JsonNode jsonBody() throws IOException {
        String body = body();
        try {
            JsonNode node = JSON.readTree(body.isEmpty() ? "{}" : body);
            if (node == null || !node.isObject()) {
                throw new BadRequest("the body must be a JSON object");
            }
            return node;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadRequest("the body is not JSON: " + e.getOriginalMessage());
        }
    }

    public void setHeader(String name, String value) {
        response.getHeaders().put(name, value);
    }

    public void addCookie(HttpCookie cookie) {
        Response.addCookie(response, cookie);
    }

    public void json(int status, JsonNode body) throws IOException {
        send(status, "application/json; charset=utf-8", JSON.writeValueAsBytes(body));
    }

    public void error(int status, String message) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.put("error", message);
        json(status, body);
    }

    /** Answers with {@code bytes}; a HEAD request gets the headers only. */
    public void send(int status, String contentType, byte[] bytes) throws IOException {
        if (answered) {
            throw new IllegalStateException("already answered");
        }
        answered = true;
        response.setStatus(status);
        hardening();
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        boolean head = "HEAD".equals(method());
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, head ? ByteBuffer.allocate(0) : ByteBuffer.wrap(bytes), callback);
    }

    /** Starts a stream (server-sent events): the headers now, then {@link #write} until {@link #end}. */
    public void startStream(String contentType) {
        answered = true;
        response.setStatus(200);
        hardening();
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
    }

    /** Writes a part of a stream and waits until it is sent; IOException when the client has gone. */
    public void write(String text) throws IOException {
        try (Blocker.Callback blocker = Blocker.callback()) {
            response.write(false, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), blocker);
            blocker.block();
        }
    }

    /** Ends a stream. */
    public void end(Throwable failure) {
        if (failure == null) {
            response.write(true, ByteBuffer.allocate(0), callback);
        } else {
            callback.failed(failure);
        }
    }

    public boolean answered() {
        return answered;
    }

    private void hardening() {
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
        response.getHeaders().put("X-Frame-Options", "DENY");
        response.getHeaders().put("Referrer-Policy", "no-referrer");
        response.getHeaders().put("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                + "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'");
    }

    /** A request the handler cannot take (400, the message says why). */
    public static final class BadRequest extends IOException {
        public BadRequest(String message) {
            super(message);
        }
    }

    /** A body over {@link #MAX_BODY} (413). */
    public static final class BodyTooLarge extends IOException {
        BodyTooLarge() {
            super("the body is larger than " + MAX_BODY + " bytes");
        }
    }
}
