package org.cttriage.fhir.delivery;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Device;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Provenance;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * A real FHIR server in the test's JVM: HAPI's plain RestfulServer in Jetty 12 on 127.0.0.1 and an ephemeral port,
 * with in-memory providers for the four resource types ct-triage writes. The plain server has no transaction
 * processing of its own (that lives in HAPI's JPA server), so {@link TransactionProvider} implements what ct-triage's
 * bundles need, as the FHIR specification describes it: entries in order, conditional create on
 * {@code ifNoneExist} (no match: create; one match: answer 200 with it; several: 412), urn:uuid references
 * resolved to the ids assigned, all of it atomically.
 */
final class InProcessFhirServer implements AutoCloseable {
    private final MemoryStore store = new MemoryStore();
    private final AtomicInteger answersToLose = new AtomicInteger();
    private final Server jetty;
    private final int port;

    InProcessFhirServer(FhirContext context) throws Exception {
        RestfulServer fhir = new RestfulServer(context);
        fhir.setDefaultResponseEncoding(EncodingEnum.JSON);
        fhir.registerProviders(List.of(new DeviceProvider(store), new ObservationProvider(store),
                new DiagnosticReportProvider(store), new ProvenanceProvider(store), new TransactionProvider(store, context)));
        jetty = new Server();
        ServerConnector connector = new ServerConnector(jetty);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        jetty.addConnector(connector);
        ServletContextHandler servlets = new ServletContextHandler();
        servlets.setContextPath("/");
        servlets.addServlet(new ServletHolder(fhir), "/fhir/*");
        servlets.addFilter(new FilterHolder(new LoseAnswerFilter(answersToLose)), "/fhir/*",
                EnumSet.of(DispatcherType.REQUEST));
        jetty.setHandler(servlets);
        jetty.start();
        port = connector.getLocalPort();
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + port + "/fhir");
    }

    /** The next {@code n} requests are processed (and committed) but answered 502, as by a failing gateway. */
    void loseNextAnswers(int n) {
        answersToLose.set(n);
    }

    /** Forgets every resource. */
    void clear() {
        store.clear();
    }

    @Override
    public void close() {
        try {
            jetty.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the test FHIR server", e);
        }
    }

    /** Resources by type and id, ids assigned in order: the same requests always give the same ids. */
    static final class MemoryStore {
        private final Map<String, Map<String, Resource>> byType = new LinkedHashMap<>();
        private int nextId = 1;

        synchronized void clear() {
            byType.clear();
            nextId = 1;
        }

        synchronized Resource read(String type, String id) {
            Resource r = byType.getOrDefault(type, Map.of()).get(id);
            if (r == null) {
                throw new ResourceNotFoundException(new IdType(type, id));
            }
            return r.copy();
        }

        /** Resources of {@code type} matching {@code param=system|value} (identifier or _tag), or all if param is null. */
        synchronized List<Resource> search(String type, String param, TokenParam token) {
            List<Resource> out = new ArrayList<>();
            for (Resource r : byType.getOrDefault(type, Map.of()).values()) {
                if (param == null || token == null || matches(r, param, token.getSystem(), token.getValue())) {
                    out.add(r.copy());
                }
            }
            return out;
        }

        private static boolean matches(Resource r, String param, String system, String value) {
            if ("_tag".equals(param)) {
                for (Coding c : r.getMeta().getTag()) {
                    if ((system == null || system.equals(c.getSystem())) && value.equals(c.getCode())) {
                        return true;
                    }
                }
                return false;
            }
            if ("identifier".equals(param)) {
                for (Identifier i : identifiers(r)) {
                    if ((system == null || system.equals(i.getSystem())) && value.equals(i.getValue())) {
                        return true;
                    }
                }
                return false;
            }
            throw new InvalidRequestException("search parameter " + param + " is not supported by this test server");
        }

        static List<Identifier> identifiers(Resource r) {
            if (r instanceof Device d) {
                return d.getIdentifier();
            }
            if (r instanceof Observation o) {
                return o.getIdentifier();
            }
            if (r instanceof DiagnosticReport d) {
                return d.getIdentifier();
            }
            return List.of();
        }

        synchronized String nextId() {
            return String.valueOf(nextId++);
        }

        synchronized void put(Resource r) {
            byType.computeIfAbsent(r.fhirType(), t -> new LinkedHashMap<>()).put(r.getIdElement().getIdPart(), r);
        }
    }

    /** read and search (all, or by identifier) of one type. */
    abstract static class TypeProvider {
        final MemoryStore store;

        TypeProvider(MemoryStore store) {
            this.store = store;
        }
    }

    public static final class DeviceProvider extends TypeProvider implements IResourceProvider {
        DeviceProvider(MemoryStore store) {
            super(store);
        }

        @Override
        public Class<Device> getResourceType() {
            return Device.class;
        }

        @Read
        public Device read(@IdParam IdType id) {
            return (Device) store.read("Device", id.getIdPart());
        }

        @Search
        public List<Resource> search(@OptionalParam(name = "identifier") TokenParam identifier) {
            return store.search("Device", "identifier", identifier);
        }
    }

    public static final class ObservationProvider extends TypeProvider implements IResourceProvider {
        ObservationProvider(MemoryStore store) {
            super(store);
        }

        @Override
        public Class<Observation> getResourceType() {
            return Observation.class;
        }

        @Read
        public Observation read(@IdParam IdType id) {
            return (Observation) store.read("Observation", id.getIdPart());
        }

        @Search
        public List<Resource> search(@OptionalParam(name = "identifier") TokenParam identifier) {
            return store.search("Observation", "identifier", identifier);
        }
    }

    public static final class DiagnosticReportProvider extends TypeProvider implements IResourceProvider {
        DiagnosticReportProvider(MemoryStore store) {
            super(store);
        }

        @Override
        public Class<DiagnosticReport> getResourceType() {
            return DiagnosticReport.class;
        }

        @Read
        public DiagnosticReport read(@IdParam IdType id) {
            return (DiagnosticReport) store.read("DiagnosticReport", id.getIdPart());
        }

        @Search
        public List<Resource> search(@OptionalParam(name = "identifier") TokenParam identifier) {
            return store.search("DiagnosticReport", "identifier", identifier);
        }
    }

    public static final class ProvenanceProvider extends TypeProvider implements IResourceProvider {
        ProvenanceProvider(MemoryStore store) {
            super(store);
        }

        @Override
        public Class<Provenance> getResourceType() {
            return Provenance.class;
        }

        @Read
        public Provenance read(@IdParam IdType id) {
            return (Provenance) store.read("Provenance", id.getIdPart());
        }

        @Search
        public List<Resource> search(@OptionalParam(name = "_tag") TokenParam tag) {
            return store.search("Provenance", "_tag", tag);
        }
    }

    /** Transaction processing for bundles of POST entries with optional ifNoneExist. */
    public static final class TransactionProvider {
        private final MemoryStore store;
        private final FhirContext context;

        TransactionProvider(MemoryStore store, FhirContext context) {
            this.store = store;
            this.context = context;
        }

        @Transaction
        public Bundle transaction(@TransactionParam Bundle request) {
            if (request.getType() != Bundle.BundleType.TRANSACTION) {
                throw new InvalidRequestException("expected a transaction bundle, got " + request.getType());
            }
            synchronized (store) {
                Map<String, String> resolved = new HashMap<>();
                List<Resource> created = new ArrayList<>();
                Bundle response = new Bundle().setType(Bundle.BundleType.TRANSACTIONRESPONSE);
                for (Bundle.BundleEntryComponent e : request.getEntry()) {
                    if (e.getRequest().getMethod() != Bundle.HTTPVerb.POST) {
                        throw new InvalidRequestException("only POST entries are supported, got " + e.getRequest().getMethod());
                    }
                    Resource r = e.getResource();
                    String type = r.fhirType();
                    Resource existing = null;
                    if (e.getRequest().hasIfNoneExist()) {
                        existing = conditionalMatch(type, e.getRequest().getIfNoneExist());
                    }
                    Bundle.BundleEntryResponseComponent answer = response.addEntry().getResponse();
                    if (existing != null) {
                        resolved.put(e.getFullUrl(), type + "/" + existing.getIdElement().getIdPart());
                        answer.setStatus("200 OK").setLocation(type + "/" + existing.getIdElement().getIdPart()
                                + "/_history/" + existing.getMeta().getVersionId());
                        continue;
                    }
                    Resource copy = r.copy();
                    String id = store.nextId();
                    copy.setId(new IdType(type, id, "1"));
                    copy.getMeta().setVersionId("1").setLastUpdated(new Date());
                    resolved.put(e.getFullUrl(), type + "/" + id);
                    created.add(copy);
                    answer.setStatus("201 Created").setLocation(type + "/" + id + "/_history/1");
                }
                for (Resource r : created) {
                    for (Reference ref : context.newTerser().getAllPopulatedChildElementsOfType(r, Reference.class)) {
                        String target = resolved.get(ref.getReference());
                        if (target != null) {
                            ref.setReference(target);
                        } else if (ref.getReference() != null && ref.getReference().startsWith("urn:uuid:")) {
                            throw new InvalidRequestException("unresolved reference " + ref.getReference());
                        }
                    }
                }
                created.forEach(store::put);
                return response;
            }
        }

        private Resource conditionalMatch(String type, String ifNoneExist) {
            String query = ifNoneExist.startsWith(type + "?") ? ifNoneExist.substring(type.length() + 1) : ifNoneExist;
            String[] kv = query.split("=", 2);
            if (query.contains("&") || kv.length != 2) {
                throw new InvalidRequestException("this test server supports one ifNoneExist parameter, got " + query);
            }
            String value = URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
            String[] token = value.split("\\|", 2);
            TokenParam t = token.length == 2 ? new TokenParam(token[0], token[1]) : new TokenParam(null, value);
            List<Resource> matches = store.search(type, kv[0], t);
            if (matches.size() > 1) {
                throw new PreconditionFailedException(matches.size() + " " + type + " match " + ifNoneExist);
            }
            return matches.isEmpty() ? null : matches.get(0);
        }
    }

    /**
     * Lets the server process a request, then throws its answer away and answers 502 instead, the way a gateway
     * that loses the connection to the server after forwarding the request would: the transaction is committed,
     * the client cannot know it.
     */
    static final class LoseAnswerFilter implements Filter {
        private final AtomicInteger toLose;

        LoseAnswerFilter(AtomicInteger toLose) {
            this.toLose = toLose;
        }

        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            if (toLose.getAndUpdate(n -> Math.max(0, n - 1)) == 0) {
                chain.doFilter(request, response);
                return;
            }
            HttpServletResponse http = (HttpServletResponse) response;
            chain.doFilter(request, new Swallowing(http));
            http.reset();
            http.setStatus(502);
            http.setContentType("text/plain");
            http.getWriter().write("Bad gateway (test: answer lost after the server committed)");
        }
    }

    /** A response whose status, headers and body go nowhere. */
    static final class Swallowing extends HttpServletResponseWrapper {
        private final ByteArrayOutputStream sink = new ByteArrayOutputStream();

        Swallowing(HttpServletResponse response) {
            super(response);
        }

        @Override
        public ServletOutputStream getOutputStream() {
            return new ServletOutputStream() {
                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setWriteListener(WriteListener listener) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public void write(int b) {
                    sink.write(b);
                }
            };
        }

        @Override
        public PrintWriter getWriter() {
            return new PrintWriter(new OutputStreamWriter(sink, StandardCharsets.UTF_8));
        }

        @Override
        public void setStatus(int sc) {
        }

        @Override
        public void setHeader(String name, String value) {
        }

        @Override
        public void addHeader(String name, String value) {
        }

        @Override
        public void setContentType(String type) {
        }

        @Override
        public void setContentLength(int len) {
        }

        @Override
        public void setContentLengthLong(long len) {
        }

        @Override
        public void flushBuffer() {
        }

        @Override
        public boolean isCommitted() {
            return false;
        }
    }
}
