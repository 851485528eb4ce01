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
import java.util.concurrent.atomic.AtomicBoolean;
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
 * bundles need, as the FHIR R4 specification describes it: entries in order; POST with {@code ifNoneExist} as a
 * conditional create (no match: create, 201; one match: answer 200 with it; several: 412); PUT to
 * {@code Type?identifier=system|value} as a conditional update (no match: create, 201, version 1; one match: replace
 * it under its id as the next version, 200; several: 412); urn:uuid references resolved to the ids created or
 * matched; all of it atomically. Like HAPI's JPA server, an update whose content equals the current version stores
 * no new version. Every version of a resource is kept ({@link #versions(String, String)}).
 *
 * <p>For outage tests: {@link #loseNextAnswers(int)} (committed, answered 502), {@link #unavailable(boolean)} (503
 * with Retry-After before anything is processed) and {@link #stopListening()} / {@link #resumeListening()}
 * (connections refused, then accepted again on the same port). Public so that other modules' tests (the node's
 * FHIR outage test) can use it from this module's test-jar.
 */
public final class InProcessFhirServer implements AutoCloseable {
    private final MemoryStore store = new MemoryStore();
    private final AtomicInteger answersToLose = new AtomicInteger();
    private final AtomicBoolean unavailable = new AtomicBoolean();
    private final AtomicInteger transactions = new AtomicInteger();
    private final Server jetty;
    private final ServerConnector connector;
    private final int port;

    /** Starts the server on an ephemeral port; {@code context} is an R4 FhirContext. */
    public InProcessFhirServer(FhirContext context) throws Exception {
        RestfulServer fhir = new RestfulServer(context);
        fhir.setDefaultResponseEncoding(EncodingEnum.JSON);
        fhir.registerProviders(List.of(new DeviceProvider(store), new ObservationProvider(store),
                new DiagnosticReportProvider(store), new ProvenanceProvider(store), new TaskProvider(store),
                new ServiceRequestProvider(store), new TransactionProvider(store, context, transactions)));
        jetty = new Server();
        connector = new ServerConnector(jetty);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        jetty.addConnector(connector);
        ServletContextHandler servlets = new ServletContextHandler();
        servlets.setContextPath("/");
        servlets.addServlet(new ServletHolder(fhir), "/fhir/*");
        servlets.addFilter(new FilterHolder(new UnavailableFilter(unavailable)), "/fhir/*",
                EnumSet.of(DispatcherType.REQUEST));
        servlets.addFilter(new FilterHolder(new LoseAnswerFilter(answersToLose)), "/fhir/*",
                EnumSet.of(DispatcherType.REQUEST));
        jetty.setHandler(servlets);
        jetty.start();
        port = connector.getLocalPort();
    }

    /** The FHIR base URL, {@code http://127.0.0.1:<port>/fhir}; the same after {@link #resumeListening()}. */
    public URI base() {
        return URI.create("http://127.0.0.1:" + port + "/fhir");
    }

    /** The next {@code n} requests are processed (and committed) but answered 502, as by a failing gateway. */
    public void loseNextAnswers(int n) {
        answersToLose.set(n);
    }

    /** While true, every request is answered 503 with {@code Retry-After: 1} and processed no further. */
    public void unavailable(boolean on) {
        unavailable.set(on);
    }

    /** Closes the listening socket: connections are refused until {@link #resumeListening()}. */
    public synchronized void stopListening() throws Exception {
        connector.stop();
    }

    /** Listens again, on the port first bound. */
    public synchronized void resumeListening() throws Exception {
        if (!connector.isStarted()) {
            connector.setPort(port);
            connector.start();
        }
    }

    /** How many transaction bundles the server processed (committed or refused); not those {@link #unavailable} answered. */
    public int transactions() {
        return transactions.get();
    }

    /** The DiagnosticReports stored, each in its current version, in the order they were created. */
    public List<org.hl7.fhir.r4.model.Task> tasks() {
        return store.search("Task", null, null).stream().map(org.hl7.fhir.r4.model.Task.class::cast).toList();
    }

    /** The ServiceRequests stored, each in its current version, in the order they were created. */
    public List<org.hl7.fhir.r4.model.ServiceRequest> serviceRequests() {
        return store.search("ServiceRequest", null, null).stream().map(org.hl7.fhir.r4.model.ServiceRequest.class::cast)
                .toList();
    }

    /** Stores {@code order} as a new ServiceRequest (version 1), as the RIS or the EHR would have; its id. */
    public String addServiceRequest(org.hl7.fhir.r4.model.ServiceRequest order) {
        org.hl7.fhir.r4.model.ServiceRequest copy = order.copy();
        String id = store.nextId();
        copy.setId(new IdType("ServiceRequest", id, "1"));
        copy.getMeta().setVersionId("1").setLastUpdated(new Date());
        store.put(copy);
        return id;
    }

    public List<DiagnosticReport> reports() {
        return store.search("DiagnosticReport", null, null).stream().map(DiagnosticReport.class::cast).toList();
    }

    /** Every version of {@code type/id}, oldest first (versionId 1, 2, …); empty when there is no such resource. */
    public List<Resource> versions(String type, String id) {
        return store.versions(type, id);
    }

    /** Forgets every resource and the count of transactions. */
    public void clear() {
        store.clear();
        transactions.set(0);
    }

    @Override
    public void close() {
        try {
            jetty.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the test FHIR server", e);
        }
    }

    /** Resources by type and id, each with its versions; ids assigned in order: the same requests give the same ids. */
    static final class MemoryStore {
        private final Map<String, Map<String, List<Resource>>> byType = new LinkedHashMap<>();
        private int nextId = 1;

        synchronized void clear() {
            byType.clear();
            nextId = 1;
        }

        synchronized Resource read(String type, String id) {
            List<Resource> versions = byType.getOrDefault(type, Map.of()).get(id);
            if (versions == null) {
                throw new ResourceNotFoundException(new IdType(type, id));
            }
            return versions.get(versions.size() - 1).copy();
        }

        synchronized List<Resource> versions(String type, String id) {
            return byType.getOrDefault(type, Map.of()).getOrDefault(id, List.of()).stream().map(Resource::copy).toList();
        }

        /** Current versions of {@code type} matching {@code param=system|value} (identifier or _tag), or all if param is null. */
        synchronized List<Resource> search(String type, String param, TokenParam token) {
            List<Resource> out = new ArrayList<>();
            for (List<Resource> versions : byType.getOrDefault(type, Map.of()).values()) {
                Resource r = versions.get(versions.size() - 1);
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
            if (r instanceof org.hl7.fhir.r4.model.Task t) {
                return t.getIdentifier();
            }
            if (r instanceof org.hl7.fhir.r4.model.ServiceRequest sr) {
                return sr.getIdentifier();
            }
            return List.of();
        }

        synchronized String nextId() {
            return String.valueOf(nextId++);
        }

        /** Stores {@code r} as the next version of its id (its meta.versionId already set). */
        synchronized void put(Resource r) {
            byType.computeIfAbsent(r.fhirType(), t -> new LinkedHashMap<>())
                    .computeIfAbsent(r.getIdElement().getIdPart(), i -> new ArrayList<>()).add(r);
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

    public static final class TaskProvider extends TypeProvider implements IResourceProvider {
        TaskProvider(MemoryStore store) {
            super(store);
        }

        @Override
        public Class<org.hl7.fhir.r4.model.Task> getResourceType() {
            return org.hl7.fhir.r4.model.Task.class;
        }

        @Read
        public org.hl7.fhir.r4.model.Task read(@IdParam IdType id) {
            return (org.hl7.fhir.r4.model.Task) store.read("Task", id.getIdPart());
        }

        @Search
        public List<Resource> search(@OptionalParam(name = "identifier") TokenParam identifier) {
            return store.search("Task", "identifier", identifier);
        }
    }

    /**
     * ServiceRequest as an order placer's server keeps it: read; search by {@code identifier=system|value} or by
     * {@code identifier:of-type=typeSystem|typeCode|value} (R4 token search); update only with {@code If-Match} naming
     * the current version (412 otherwise, as R4's "managing resource contention" describes), storing the next version.
     */
    public static final class ServiceRequestProvider extends TypeProvider implements IResourceProvider {
        ServiceRequestProvider(MemoryStore store) {
            super(store);
        }

        @Override
        public Class<org.hl7.fhir.r4.model.ServiceRequest> getResourceType() {
            return org.hl7.fhir.r4.model.ServiceRequest.class;
        }

        @Read
        public org.hl7.fhir.r4.model.ServiceRequest read(@IdParam IdType id) {
            return (org.hl7.fhir.r4.model.ServiceRequest) store.read("ServiceRequest", id.getIdPart());
        }

        @Search
        public List<Resource> search(@OptionalParam(name = "identifier") TokenParam identifier) {
            if (identifier == null) {
                return store.search("ServiceRequest", null, null);
            }
            if (identifier.getModifier() == ca.uhn.fhir.rest.param.TokenParamModifier.OF_TYPE) {
                // system|code|value, which HAPI hands over split at the first '|'
                String[] parts = (identifier.getSystem() + "|" + identifier.getValue()).split("\\|", 3);
                if (parts.length != 3) {
                    throw new InvalidRequestException("identifier:of-type needs system|code|value");
                }
                List<Resource> out = new ArrayList<>();
                for (Resource r : store.search("ServiceRequest", null, null)) {
                    for (Identifier i : MemoryStore.identifiers(r)) {
                        if (parts[2].equals(i.getValue()) && i.getType().getCoding().stream().anyMatch(c ->
                                parts[0].equals(c.getSystem()) && parts[1].equals(c.getCode()))) {
                            out.add(r);
                            break;
                        }
                    }
                }
                return out;
            }
            return store.search("ServiceRequest", "identifier", identifier);
        }

        @ca.uhn.fhir.rest.annotation.Update
        public ca.uhn.fhir.rest.api.MethodOutcome update(@IdParam IdType id,
                @ca.uhn.fhir.rest.annotation.ResourceParam org.hl7.fhir.r4.model.ServiceRequest order) {
            synchronized (store) {
                Resource current = store.read("ServiceRequest", id.getIdPart());
                String version = current.getMeta().getVersionId();
                if (!id.hasVersionIdPart() || !id.getVersionIdPart().equals(version)) {
                    throw new PreconditionFailedException("If-Match " + (id.hasVersionIdPart() ? "W/\"" + id.getVersionIdPart()
                            + "\"" : "missing") + " does not name the current version " + version);
                }
                String next = String.valueOf(Integer.parseInt(version) + 1);
                org.hl7.fhir.r4.model.ServiceRequest copy = order.copy();
                copy.setId(new IdType("ServiceRequest", id.getIdPart(), next));
                copy.getMeta().setVersionId(next).setLastUpdated(new Date());
                store.put(copy);
                return new ca.uhn.fhir.rest.api.MethodOutcome(copy.getIdElement(), false).setResource(copy);
            }
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

    /** Transaction processing for bundles of POST (conditional create) and PUT (conditional update) entries. */
    public static final class TransactionProvider {
        private final MemoryStore store;
        private final FhirContext context;
        private final AtomicInteger count;

        TransactionProvider(MemoryStore store, FhirContext context, AtomicInteger count) {
            this.store = store;
            this.context = context;
            this.count = count;
        }

        @Transaction
        public Bundle transaction(@TransactionParam Bundle request) {
            count.incrementAndGet();
            if (request.getType() != Bundle.BundleType.TRANSACTION) {
                throw new InvalidRequestException("expected a transaction bundle, got " + request.getType());
            }
            synchronized (store) {
                Map<String, String> resolved = new HashMap<>();
                Map<Resource, Bundle.BundleEntryResponseComponent> written = new LinkedHashMap<>(); // keys by identity
                Bundle response = new Bundle().setType(Bundle.BundleType.TRANSACTIONRESPONSE);
                for (Bundle.BundleEntryComponent e : request.getEntry()) {
                    Resource r = e.getResource();
                    String type = r.fhirType();
                    Bundle.HTTPVerb method = e.getRequest().getMethod();
                    Resource existing;
                    if (method == Bundle.HTTPVerb.POST) {
                        existing = e.getRequest().hasIfNoneExist() ? conditionalMatch(type, e.getRequest().getIfNoneExist())
                                : null;
                    } else if (method == Bundle.HTTPVerb.PUT) {
                        String url = e.getRequest().getUrl();
                        if (url == null || !url.startsWith(type + "?")) {
                            throw new InvalidRequestException("this test server supports PUT to a conditional URL "
                                    + type + "?identifier=system|value only, got " + url);
                        }
                        existing = conditionalMatch(type, url);
                    } else {
                        throw new InvalidRequestException("only POST and PUT entries are supported, got " + method);
                    }
                    Bundle.BundleEntryResponseComponent answer = response.addEntry().getResponse();
                    Resource copy = r.copy();
                    if (existing == null) {
                        String id = store.nextId();
                        copy.setId(new IdType(type, id, "1"));
                        copy.getMeta().setVersionId("1").setLastUpdated(new Date());
                        resolved.put(e.getFullUrl(), type + "/" + id);
                        written.put(copy, answer);
                        answer.setStatus("201 Created").setLocation(type + "/" + id + "/_history/1");
                        continue;
                    }
                    String id = existing.getIdElement().getIdPart();
                    resolved.put(e.getFullUrl(), type + "/" + id);
                    if (method == Bundle.HTTPVerb.POST) {
                        answer.setStatus("200 OK").setLocation(type + "/" + id + "/_history/"
                                + existing.getMeta().getVersionId());
                        continue;
                    }
                    String version = String.valueOf(Integer.parseInt(existing.getMeta().getVersionId()) + 1);
                    copy.setId(new IdType(type, id, version));
                    copy.getMeta().setVersionId(version).setLastUpdated(new Date());
                    written.put(copy, answer);
                    answer.setStatus("200 OK").setLocation(type + "/" + id + "/_history/" + version);
                }
                for (Resource r : written.keySet()) {
                    for (Reference ref : context.newTerser().getAllPopulatedChildElementsOfType(r, Reference.class)) {
                        String target = resolved.get(ref.getReference());
                        if (target != null) {
                            ref.setReference(target);
                        } else if (ref.getReference() != null && ref.getReference().startsWith("urn:uuid:")) {
                            throw new InvalidRequestException("unresolved reference " + ref.getReference());
                        }
                    }
                }
                for (Map.Entry<Resource, Bundle.BundleEntryResponseComponent> w : written.entrySet()) {
                    Resource r = w.getKey();
                    if (!"1".equals(r.getMeta().getVersionId())) {
                        Resource current = store.read(r.fhirType(), r.getIdElement().getIdPart());
                        if (sameContent(current, r)) {
                            // As HAPI's JPA server does: an update that changes nothing stores no new version.
                            w.getValue().setLocation(r.fhirType() + "/" + r.getIdElement().getIdPart() + "/_history/"
                                    + current.getMeta().getVersionId());
                            continue;
                        }
                    }
                    store.put(r);
                }
                return response;
            }
        }

        /** Equal but for id, versionId and lastUpdated. */
        private boolean sameContent(Resource a, Resource b) {
            return content(a).equals(content(b));
        }

        private String content(Resource r) {
            Resource c = r.copy();
            c.setId((String) null);
            c.getMeta().setVersionId(null).setLastUpdated(null);
            return context.newJsonParser().encodeResourceToString(c);
        }

        /** The one current resource matching a conditional URL ({@code [Type?]param=system|value}), null if none. */
        private Resource conditionalMatch(String type, String conditional) {
            String query = conditional.startsWith(type + "?") ? conditional.substring(type.length() + 1) : conditional;
            String[] kv = query.split("=", 2);
            if (query.contains("&") || kv.length != 2) {
                throw new InvalidRequestException("this test server supports one search parameter in a conditional"
                        + " URL, got " + query);
            }
            String value = URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
            String[] token = value.split("\\|", 2);
            TokenParam t = token.length == 2 ? new TokenParam(token[0], token[1]) : new TokenParam(null, value);
            List<Resource> matches = store.search(type, kv[0], t);
            if (matches.size() > 1) {
                throw new PreconditionFailedException(matches.size() + " " + type + " match " + conditional);
            }
            return matches.isEmpty() ? null : matches.get(0);
        }
    }

    /** While switched on, answers every request 503 with {@code Retry-After: 1}, as a server in maintenance would. */
    static final class UnavailableFilter implements Filter {
        private final AtomicBoolean on;

        UnavailableFilter(AtomicBoolean on) {
            this.on = on;
        }

        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            if (!on.get()) {
                chain.doFilter(request, response);
                return;
            }
            HttpServletResponse http = (HttpServletResponse) response;
            http.setStatus(503);
            http.setHeader("Retry-After", "1");
            http.setContentType("text/plain");
            http.getWriter().write("Service unavailable (test: outage)");
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
