package org.cttriage.plugin.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.cttriage.core.audit.AuditEvents;
import org.cttriage.core.audit.AuditMessage;
import org.cttriage.core.audit.AuditTrail;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.NodeObserver;
import org.cttriage.core.node.ResultRepository;
import org.cttriage.core.node.SeriesRepository;
import org.cttriage.core.node.StudyOverview;
import org.cttriage.core.node.WorklistRepository;
import org.cttriage.core.pipeline.KeyImages;
import org.eclipse.jetty.http.HttpCookie;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reading worklist: REST API v1 under {@code /api/v1/} (docs/openapi.yaml, served at
 * {@code /api/v1/openapi.yaml}) and the web page under {@code /worklist/}. Everything but the API description and
 * the page's static files needs a login: a session cookie (HttpOnly, SameSite=Strict, Secure under HTTPS) with a
 * CSRF token required on every state change, or an API token ({@code Authorization: Bearer}) for machines. Logins,
 * failures, study views and reviews are written to the audit logger {@code org.cttriage.audit} (user, address,
 * study UID; no patient names) and, when the node's audit trail is on, to it as DICOM audit messages.
 */
public final class WorklistApi implements WebHandler, NodeObserver {
    static final String SESSION_COOKIE = "ctt_session";
    static final String CSRF_HEADER = "X-CSRF-Token";
    /** The largest page of the worklist. */
    static final int MAX_LIMIT = 200;
    private static final Logger LOG = LoggerFactory.getLogger(WorklistApi.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("org.cttriage.audit");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern STUDY = Pattern.compile("^/api/v1/studies/([0-9.]{1,64})(/review)?$");
    private static final Pattern KEY_IMAGE = Pattern.compile("^/api/v1/studies/([0-9.]{1,64})/key-images/([1-9][0-9]{0,2})\\.png$");
    private static final Map<String, String> STATIC = Map.of(
            "/worklist/", "index.html", "/worklist/index.html", "index.html", "/worklist/app.js", "app.js",
            "/worklist/app.css", "app.css", "/worklist/study.html", "study.html");

    private final WorklistRepository worklist;
    private final ResultRepository results;
    private final SeriesRepository series;
    private final StudyOverview overview;
    private final DeliveryLedger ledger;
    private final Users users;
    private final Map<Priority, Duration> overdueAfter;
    private final Duration sessionIdle;
    private final Clock clock;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final WorklistEvents events = new WorklistEvents();
    /** How often overdue studies are looked for. */
    static final Duration OVERDUE_CHECK = Duration.ofSeconds(30);
    private final java.util.Set<String> announcedOverdue = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.ScheduledExecutorService announcer =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "worklist-overdue");
                t.setDaemon(true);
                return t;
            });
    /** The node's audit trail, or null: none. */
    private final AuditTrail auditTrail;

    /** A logged-in browser. */
    private static final class Session {
        final Users.Principal principal;
        final String csrf;
        volatile Instant lastSeen;

        Session(Users.Principal principal, String csrf, Instant now) {
            this.principal = principal;
            this.csrf = csrf;
            this.lastSeen = now;
        }
    }

    /**
     * @param overdueAfter how long a study may wait unreviewed at each priority before it is overdue (absent: never)
     * @param sessionIdle a session unused this long is logged out
     */
    public WorklistApi(NodeDatabase database, DeliveryLedger ledger, Users users, Map<Priority, Duration> overdueAfter,
            Duration sessionIdle, Clock clock) {
        this(database, ledger, users, overdueAfter, sessionIdle, clock, null);
    }

    /**
     * As above, also writing logins, logouts, refused credentials, study views and reviews to the node's audit
     * trail as DICOM audit messages (User Authentication; Procedure Record read and update), when it is on.
     */
    public WorklistApi(NodeDatabase database, DeliveryLedger ledger, Users users, Map<Priority, Duration> overdueAfter,
            Duration sessionIdle, Clock clock, AuditTrail auditTrail) {
        this.auditTrail = auditTrail;
        this.worklist = new WorklistRepository(database);
        this.results = new ResultRepository(database);
        this.series = new SeriesRepository(database);
        this.overview = new StudyOverview(database);
        this.ledger = ledger;
        this.users = users;
        this.overdueAfter = new EnumMap<>(overdueAfter);
        this.sessionIdle = sessionIdle;
        this.clock = clock;
        announcer.scheduleWithFixedDelay(() -> {
            try {
                announceOverdue();
            } catch (RuntimeException | TriageException e) {
                LOG.warn("overdue studies could not be read: {}", e.getMessage());
            }
        }, OVERDUE_CHECK.toSeconds(), OVERDUE_CHECK.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
    }

    /** The studies overdue now (still new past {@code worklist.overdue} for their priority). */
    public List<WorklistRepository.Entry> overdue() throws TriageException {
        return worklist.overdue(overdueAfter, clock.instant());
    }

    /** How many studies are overdue now, for the metric {@code cttriage_worklist_overdue}; -1 when unreadable. */
    public int overdueCount() {
        try {
            return overdue().size();
        } catch (TriageException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Announces each study that became overdue, once per priority it reached, on the event stream ({@code reason:
     * overdue}): the live pages re-read it and show it highlighted. Runs every {@link #OVERDUE_CHECK}.
     *
     * @return how many studies were announced
     */
    public int announceOverdue() throws TriageException {
        int announced = 0;
        java.util.Set<String> now = new java.util.HashSet<>();
        for (WorklistRepository.Entry entry : overdue()) {
            String key = entry.studyInstanceUid() + "@" + entry.prioritySince();
            now.add(key);
            if (announcedOverdue.add(key)) {
                events.publish(entry.studyInstanceUid(), "overdue");
                announced++;
            }
        }
        // Reviewed or raised since: forget them, so that the set does not grow with the worklist's history.
        announcedOverdue.retainAll(now);
        return announced;
    }

    /** Worklist events for live pages: a study's result recorded. */
    @Override
    public void triaged(Triaged event) {
        events.publish(event.series().studyInstanceUid(), "result");
    }

    /** Ends the event streams (the node stops). */
    public void close() {
        announcer.shutdownNow();
        events.close();
    }

    @Override
    public boolean handle(WebExchange e) throws Exception {
        try {
            return route(e);
        } catch (MethodNotAllowed m) {
            e.error(405, m.getMessage());
        } catch (Forbidden f) {
            AUDIT.warn("csrf-refused from={} path={}", e.remoteAddress(), e.path());
            e.error(403, f.getMessage());
        }
        return true;
    }

    private boolean route(WebExchange e) throws Exception {
        String path = e.path();
        if (path.equals("/")) {
            e.setHeader("Location", "/worklist/");
            e.send(302, "text/plain; charset=utf-8", "/worklist/".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return true;
        }
        if (path.startsWith("/worklist/") || path.equals("/worklist")) {
            serveStatic(e, path.equals("/worklist") ? "/worklist/" : path);
            return true;
        }
        if (!path.startsWith("/api/v1/")) {
            return false;
        }
        if (path.equals("/api/v1/openapi.yaml")) {
            requireMethod(e, "GET");
            e.send(200, "application/yaml; charset=utf-8", resource("openapi.yaml"));
            return true;
        }
        if (path.equals("/api/v1/login")) {
            requireMethod(e, "POST");
            login(e);
            return true;
        }
        Optional<Users.Principal> principal = authenticate(e);
        if (principal.isEmpty()) {
            e.setHeader("WWW-Authenticate", "Bearer realm=\"ct-triage\"");
            e.error(401, "login required");
            return true;
        }
        Users.Principal who = principal.get();
        Matcher study = STUDY.matcher(path);
        switch (path) {
            case "/api/v1/session" -> {
                requireMethod(e, "GET");
                e.json(200, sessionBody(who, e.cookie(SESSION_COOKIE).map(sessions::get).map(s -> s.csrf).orElse(null)));
            }
            case "/api/v1/logout" -> {
                requireMethod(e, "POST");
                if (!csrfOk(e)) {
                    e.error(403, "missing or wrong " + CSRF_HEADER);
                    return true;
                }
                e.cookie(SESSION_COOKIE).ifPresent(sessions::remove);
                e.addCookie(cookie(e, "", 0));
                AUDIT.info("logout user={} from={}", who.name(), e.remoteAddress());
                audit(a -> a.userAuthentication(who.name(), Optional.of(who.name()), e.remoteAddress(), false,
                        AuditMessage.Outcome.SUCCESS, Optional.empty()));
                e.json(200, JSON.createObjectNode().put("loggedOut", true));
            }
            case "/api/v1/worklist" -> {
                requireMethod(e, "GET");
                e.json(200, worklist(e));
            }
            case "/api/v1/events" -> {
                requireMethod(e, "GET");
                events.stream(e);
            }
            case "/api/v1/dead-letters" -> {
                requireMethod(e, "GET");
                if (who.role() != Users.Role.ADMIN) {
                    e.error(403, "admins only");
                    return true;
                }
                e.json(200, deadLetters());
            }
            default -> {
                Matcher keyImage = KEY_IMAGE.matcher(path);
                if (keyImage.matches()) {
                    requireMethod(e, "GET");
                    keyImage(e, keyImage.group(1), Integer.parseInt(keyImage.group(2)));
                    return true;
                }
                if (!study.matches()) {
                    e.error(404, "no such resource: " + path);
                    return true;
                }
                String uid = study.group(1);
                if (study.group(2) == null) {
                    requireMethod(e, "GET");
                    Optional<ObjectNode> body = study(uid);
                    if (body.isEmpty()) {
                        e.error(404, "no study " + uid + " on the worklist");
                        return true;
                    }
                    AUDIT.info("study-view user={} from={} study={}", who.name(), e.remoteAddress(), uid);
                    audit(a -> a.worklistStudy(who.name(), e.remoteAddress(), false, uid, patientOf(uid),
                            Optional.empty()));
                    e.json(200, body.get());
                } else {
                    requireMethod(e, "POST");
                    review(e, who, uid);
                }
            }
        }
        return true;
    }

    private void login(WebExchange e) throws Exception {
        JsonNode body = e.jsonBody();
        String name = body.path("user").asText("");
        char[] password = body.path("password").asText("").toCharArray();
        Users.Login login = name.isEmpty() ? new Users.Login.Refused(0) : users.login(name, password);
        java.util.Arrays.fill(password, '\0');
        if (login instanceof Users.Login.Ok ok) {
            String id = token();
            Session session = new Session(ok.principal(), token(), clock.instant());
            sessions.put(id, session);
            e.addCookie(cookie(e, id, -1));
            AUDIT.info("login user={} from={} result=ok", name, e.remoteAddress());
            audit(a -> a.userAuthentication(name, Optional.of(name), e.remoteAddress(), true,
                    AuditMessage.Outcome.SUCCESS, Optional.empty()));
            e.json(200, sessionBody(ok.principal(), session.csrf));
            return;
        }
        if (login instanceof Users.Login.Locked) {
            AUDIT.warn("login user={} from={} result=locked (after {} failures; for {})", name, e.remoteAddress(),
                    Users.LOCK_AFTER, Users.LOCK_FOR);
            // A burst of bad passwords: serious failure, the account is locked for a while.
            audit(a -> a.userAuthentication(name, Optional.of(name), e.remoteAddress(), true,
                    AuditMessage.Outcome.SERIOUS_FAILURE, Optional.of("login refused: account locked after "
                            + Users.LOCK_AFTER + " failures in a row, for " + Users.LOCK_FOR)));
        } else {
            int failures = ((Users.Login.Refused) login).failuresInARow();
            AUDIT.warn("login user={} from={} result=refused failures-in-a-row={}", name, e.remoteAddress(), failures);
            audit(a -> a.userAuthentication(name.isEmpty() ? "(none)" : name, Optional.empty(), e.remoteAddress(),
                    true, AuditMessage.Outcome.MINOR_FAILURE, Optional.of("login refused (unknown user or wrong"
                            + " password); " + failures + " failure(s) in a row")));
        }
        // The same answer for an unknown user, a wrong password and a locked account.
        e.error(401, "login refused");
    }

    private Optional<Users.Principal> authenticate(WebExchange e) throws TriageException, Forbidden {
        Optional<String> bearer = e.header("Authorization").filter(h -> h.startsWith("Bearer "))
                .map(h -> h.substring("Bearer ".length()).trim());
        if (bearer.isPresent()) {
            Optional<Users.Principal> p = users.byToken(bearer.get());
            if (p.isEmpty()) {
                AUDIT.warn("api-token refused from={}", e.remoteAddress());
                audit(a -> a.userAuthentication("(API token)", Optional.empty(), e.remoteAddress(), true,
                        AuditMessage.Outcome.MINOR_FAILURE, Optional.of("API token refused")));
            }
            return p;
        }
        Optional<String> id = e.cookie(SESSION_COOKIE);
        if (id.isEmpty()) {
            return Optional.empty();
        }
        Session session = sessions.get(id.get());
        Instant now = clock.instant();
        if (session == null || Duration.between(session.lastSeen, now).compareTo(sessionIdle) > 0) {
            sessions.remove(id.get());
            return Optional.empty();
        }
        session.lastSeen = now;
        // A state change through the cookie needs the session's CSRF token in a header, which another site cannot set.
        if (!e.method().equals("GET") && !e.method().equals("HEAD") && !csrfOk(e)) {
            throw new Forbidden();
        }
        return Optional.of(session.principal);
    }

    private boolean csrfOk(WebExchange e) {
        if (e.header("Authorization").filter(h -> h.startsWith("Bearer ")).isPresent()) {
            return true;
        }
        Session session = e.cookie(SESSION_COOKIE).map(sessions::get).orElse(null);
        String sent = e.header(CSRF_HEADER).orElse("");
        return session != null && java.security.MessageDigest.isEqual(session.csrf.getBytes(), sent.getBytes());
    }

    private ObjectNode worklist(WebExchange e) throws Exception {
        Set<Priority> priorities = new LinkedHashSet<>();
        Set<WorklistRepository.State> states = new LinkedHashSet<>();
        Instant since = null;
        try {
            for (String p : list(e.query("priority"))) {
                priorities.add(Priority.fromFhirCode(p));
            }
            for (String s : list(e.query("state"))) {
                states.add(WorklistRepository.state(s));
            }
            if (e.query("since").isPresent()) {
                since = Instant.parse(e.query("since").get());
            }
        } catch (IllegalArgumentException | DateTimeParseException bad) {
            throw new WebExchange.BadRequest(bad.getMessage() + " (since is an ISO-8601 instant, e.g. 2026-12-04T08:00:00Z)");
        }
        int offset = integer(e, "offset", 0, 0, Integer.MAX_VALUE);
        int limit = integer(e, "limit", 50, 1, MAX_LIMIT);
        String sort = e.query("sort").orElse("priority");
        if (!sort.equals("priority") && !sort.equals("arrival")) {
            throw new WebExchange.BadRequest("sort must be priority or arrival, was " + sort);
        }
        WorklistRepository.Filter filter = new WorklistRepository.Filter(priorities, states, since);
        // The database sorts and pages: only the page's entries are read in full.
        List<WorklistRepository.Entry> entries = worklist.list(filter, sort.equals("priority")
                ? WorklistRepository.Order.PRIORITY : WorklistRepository.Order.ARRIVAL, offset, limit);
        ArrayNode items = JSON.createArrayNode();
        for (WorklistRepository.Entry entry : entries) {
            items.add(item(entry));
        }
        ObjectNode body = JSON.createObjectNode();
        body.put("total", worklist.count(filter));
        body.put("offset", offset);
        body.put("limit", limit);
        body.put("sort", sort);
        body.set("items", items);
        return body;
    }

    private ObjectNode item(WorklistRepository.Entry entry) throws Exception {
        Instant now = clock.instant();
        ObjectNode n = JSON.createObjectNode();
        n.put("studyInstanceUid", entry.studyInstanceUid());
        n.put("priority", entry.priority().fhirCode());
        n.put("prioritySource", entry.prioritySource());
        ArrayNode causes = n.putArray("priorityFindings");
        entry.priorityFindings().forEach(causes::add);
        n.put("state", entry.state().name().toLowerCase(java.util.Locale.ROOT));
        Duration limit = overdueAfter.get(entry.priority());
        boolean overdue = entry.state() == WorklistRepository.State.NEW && limit != null
                && Duration.between(entry.prioritySince(), now).compareTo(limit) > 0;
        n.put("overdue", overdue);
        if (limit != null) {
            n.put("overdueAfterSeconds", limit.toSeconds());
        }
        Instant arrived = series.firstReceivedOfStudy(entry.studyInstanceUid());
        n.put("arrived", (arrived == null ? entry.firstResult() : arrived).toString());
        n.put("resultAt", entry.firstResult().toString());
        n.put("prioritySince", entry.prioritySince().toString());
        Instant waitingUntil = entry.state() == WorklistRepository.State.NEW || entry.reviewedAt() == null ? now
                : entry.reviewedAt();
        n.put("waitingSeconds", Math.max(0, Duration.between(arrived == null ? entry.firstResult() : arrived,
                waitingUntil).toSeconds()));
        if (entry.reviewedBy() != null) {
            n.put("reviewedBy", entry.reviewedBy());
            n.put("reviewedAt", entry.reviewedAt().toString());
        }
        Optional<ResultRepository.CurrentDetail> current = results.currentDetail(entry.studyInstanceUid());
        ArrayNode findings = n.putArray("findings");
        if (current.isPresent()) {
            JsonNode source = JSON.readTree(current.get().sourceJson() == null ? "{}" : current.get().sourceJson());
            n.put("patientId", source.path("PatientID").asText(""));
            n.put("accessionNumber", source.path("AccessionNumber").asText(""));
            n.put("studyDate", source.path("StudyDate").asText(""));
            int key = 0;
            for (JsonNode f : JSON.readTree(current.get().resultJson()).path("findings")) {
                if (f.path("present").asBoolean(false)) {
                    findings.add(finding(f, false, keyImageHref(entry.studyInstanceUid(), current.get(), ++key)));
                }
            }
        }
        n.put("href", "/api/v1/studies/" + entry.studyInstanceUid());
        return n;
    }

    /**
     * Key image {@code n} of the study's current result: a file the node wrote beside the result's SR
     * ({@link KeyImages#file}); its name is built from the database and a number, never from the URL's text.
     */
    private void keyImage(WebExchange e, String uid, int n) throws Exception {
        Optional<ResultRepository.CurrentDetail> current = results.currentDetail(uid);
        if (current.isEmpty() || current.get().srPath() == null) {
            e.error(404, "no result for study " + uid);
            return;
        }
        java.nio.file.Path file = KeyImages.file(java.nio.file.Path.of(current.get().srPath()), n);
        if (!java.nio.file.Files.isRegularFile(file)) {
            e.error(404, "study " + uid + " has no key image " + n);
            return;
        }
        String etag = "\"" + current.get().srSopInstanceUid() + "-" + n + "\"";
        e.setHeader("ETag", etag);
        e.setHeader("Cache-Control", "private, no-cache");
        if (e.header("If-None-Match").map(etag::equals).orElse(false)) {
            e.send(304, "image/png", new byte[0]);
            return;
        }
        e.send(200, "image/png", java.nio.file.Files.readAllBytes(file));
    }

    /** The URL of key image {@code n} of the study's current result, or null when the node has none. */
    private static String keyImageHref(String uid, ResultRepository.CurrentDetail current, int n) {
        return current.srPath() != null && java.nio.file.Files.isRegularFile(KeyImages.file(
                java.nio.file.Path.of(current.srPath()), n)) ? "/api/v1/studies/" + uid + "/key-images/" + n + ".png" : null;
    }

    private static ObjectNode finding(JsonNode f, boolean all, String keyImage) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", f.path("id").asText());
        o.put("name", f.path("finding").path("meaning").asText(f.path("id").asText()));
        o.put("organ", f.path("organ").asText());
        o.put("probability", f.path("probability").asDouble());
        o.put("threshold", f.path("threshold").asDouble());
        o.put("severity", f.path("severity").asText("").toLowerCase(java.util.Locale.ROOT));
        if (all) {
            o.put("present", f.path("present").asBoolean(false));
            o.put("reportable", f.path("reportable").asBoolean(true));
        }
        JsonNode location = f.path("location");
        if (location.isObject()) {
            ObjectNode l = o.putObject("location");
            l.set("pointLps", location.path("pointLps"));
            l.put("sopInstanceUid", location.path("sopInstanceUid").asText());
            l.put("frameNumber", location.path("frameNumber").asInt());
            l.put("method", location.path("method").asText());
        } else {
            o.putNull("location");
        }
        if (keyImage == null) {
            o.putNull("keyImage");
        } else {
            o.put("keyImage", keyImage);
        }
        return o;
    }

    private Optional<ObjectNode> study(String uid) throws Exception {
        Optional<WorklistRepository.Entry> entry = worklist.find(uid);
        if (entry.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode n = item(entry.get());
        Optional<StudyOverview.Study> study = overview.show(uid);
        ArrayNode seriesNode = n.putArray("series");
        ArrayNode resultsNode = n.putArray("results");
        if (study.isPresent()) {
            for (StudyOverview.SeriesLine s : study.get().series()) {
                ObjectNode o = seriesNode.addObject();
                o.put("seriesInstanceUid", s.seriesInstanceUid());
                o.put("instances", s.instances());
                o.put("state", s.state().toLowerCase(java.util.Locale.ROOT));
                o.put("reason", s.reason());
            }
            for (StudyOverview.ResultLine r : study.get().results()) {
                ObjectNode o = resultsNode.addObject();
                o.put("id", r.id());
                o.put("seriesInstanceUid", r.seriesInstanceUid());
                o.put("priority", r.priority());
                o.put("srSopInstanceUid", r.srSopInstanceUid());
                o.put("recorded", r.created().toString());
                if (r.supersededBy() == null) {
                    o.putNull("supersededBy");
                } else {
                    o.put("supersededBy", r.supersededBy());
                }
                ArrayNode deliveries = o.putArray("deliveries");
                for (StudyOverview.DeliveryLine d : r.deliveries()) {
                    ObjectNode dn = deliveries.addObject();
                    dn.put("destination", d.destination());
                    dn.put("state", d.state().toLowerCase(java.util.Locale.ROOT));
                    dn.put("attempts", d.attempts());
                    dn.put("lastError", d.lastError());
                }
            }
        }
        Optional<ResultRepository.CurrentDetail> current = results.currentDetail(uid);
        if (current.isPresent()) {
            JsonNode result = JSON.readTree(current.get().resultJson());
            ObjectNode r = n.putObject("result");
            r.put("id", current.get().id());
            r.put("seriesInstanceUid", current.get().seriesInstanceUid());
            r.put("srSopInstanceUid", current.get().srSopInstanceUid());
            // What the PACS received for the study: the SR, the organ SEG, the key-image KOS and the rejection note of the
            // superseded result's objects (no file paths).
            ArrayNode objects = r.putArray("objects");
            for (org.cttriage.core.domain.ResultObject o : current.get().objects()) {
                ObjectNode on = objects.addObject();
                on.put("modality", o.modality());
                on.put("sopClassUid", o.sopClassUid());
                on.put("sopInstanceUid", o.sopInstanceUid());
                on.put("seriesInstanceUid", o.seriesInstanceUid());
                if (o.isRejectionNote()) {
                    ArrayNode rejects = on.putArray("rejects");
                    o.rejects().forEach(rejects::add);
                }
            }
            r.set("model", result.path("model"));
            ArrayNode all = r.putArray("findings");
            int key = 0;
            for (JsonNode f : result.path("findings")) {
                boolean present = f.path("present").asBoolean(false);
                all.add(finding(f, true, present ? keyImageHref(uid, current.get(), ++key) : null));
            }
            r.set("organVolumesMl", result.path("organVolumesMl"));
        }
        ArrayNode reviews = n.putArray("reviews");
        for (WorklistRepository.Review rv : worklist.reviews(uid)) {
            ObjectNode o = reviews.addObject();
            o.put("user", rv.user());
            o.put("action", rv.action().name().toLowerCase(java.util.Locale.ROOT));
            o.put("priorityBefore", rv.before().fhirCode());
            o.put("priorityAfter", rv.after().fhirCode());
            o.put("comment", rv.comment());
            o.put("at", rv.at().toString());
        }
        return Optional.of(n);
    }

    private void review(WebExchange e, Users.Principal who, String uid) throws Exception {
        JsonNode body = e.jsonBody();
        WorklistRepository.Action action;
        Priority priority = null;
        try {
            action = WorklistRepository.Action.valueOf(body.path("action").asText("").toUpperCase(java.util.Locale.ROOT));
            if (action == WorklistRepository.Action.REPRIORITISE) {
                priority = Priority.fromFhirCode(body.path("priority").asText(""));
            }
        } catch (IllegalArgumentException bad) {
            throw new WebExchange.BadRequest("action must be confirm, dismiss or reprioritise (with a priority: "
                    + "routine, urgent, asap, stat); " + bad.getMessage());
        }
        String comment = body.path("comment").isTextual() ? body.path("comment").asText() : null;
        if (comment != null && comment.length() > 2000) {
            throw new WebExchange.BadRequest("a comment has at most 2000 characters");
        }
        if (worklist.find(uid).isEmpty()) {
            e.error(404, "no study " + uid + " on the worklist");
            return;
        }
        WorklistRepository.Entry after = worklist.review(uid, who.name(), action, priority, comment, clock.instant());
        AUDIT.info("study-review user={} from={} study={} action={} priority={}", who.name(), e.remoteAddress(), uid,
                action.name().toLowerCase(java.util.Locale.ROOT), after.priority().fhirCode());
        String how = action.name().toLowerCase(java.util.Locale.ROOT) + ": priority " + after.priority().fhirCode()
                + (comment == null ? "" : "; comment: " + comment);
        audit(a -> a.worklistStudy(who.name(), e.remoteAddress(), true, uid, patientOf(uid), Optional.of(how)));
        events.publish(uid, "review");
        e.json(200, study(uid).orElseThrow());
    }

    /** Records an audit message when the node's audit trail is on; never fails the request. */
    private void audit(java.util.function.Function<AuditEvents, AuditMessage> message) {
        if (auditTrail == null || !auditTrail.enabled()) {
            return;
        }
        try {
            auditTrail.record(message.apply(auditTrail.events()));
        } catch (RuntimeException ex) {
            LOG.warn("audit message not recorded: {}", ex.getClass().getSimpleName());
        }
    }

    /** The study's patient as the current result recorded it (ID and issuer; the node keeps no names). */
    private AuditEvents.Patient patientOf(String uid) {
        try {
            Optional<ResultRepository.CurrentDetail> current = results.currentDetail(uid);
            if (current.isPresent() && current.get().sourceJson() != null) {
                JsonNode source = JSON.readTree(current.get().sourceJson());
                return new AuditEvents.Patient(source.path("PatientID").asText(""),
                        source.path("IssuerOfPatientID").asText(""), "");
            }
        } catch (TriageException | IOException ex) {
            LOG.warn("audit: the patient of a viewed study could not be read: {}", ex.getClass().getSimpleName());
        }
        return new AuditEvents.Patient("", "", "");
    }

    private ArrayNode deadLetters() throws TriageException {
        ArrayNode out = JSON.createArrayNode();
        for (DeliveryLedger.Delivery d : ledger.inState(DeliveryState.DEAD)) {
            ObjectNode o = out.addObject();
            o.put("id", d.id());
            o.put("destination", d.destination());
            o.put("studyInstanceUid", d.series().studyInstanceUid());
            o.put("attempts", d.attempts());
            o.put("lastError", d.lastError());
        }
        return out;
    }

    private void serveStatic(WebExchange e, String path) throws IOException {
        String file = STATIC.get(path);
        if (file == null) {
            e.error(404, "no such resource: " + path);
            return;
        }
        requireMethod(e, "GET");
        String type = file.endsWith(".js") ? "text/javascript; charset=utf-8"
                : file.endsWith(".css") ? "text/css; charset=utf-8" : "text/html; charset=utf-8";
        e.send(200, type, resource("static/" + file));
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = WorklistApi.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("resource " + name + " missing from the build");
            }
            return in.readAllBytes();
        }
    }

    private static void requireMethod(WebExchange e, String method) throws IOException {
        boolean ok = e.method().equals(method) || (method.equals("GET") && e.method().equals("HEAD"));
        if (!ok) {
            e.setHeader("Allow", method.equals("GET") ? "GET, HEAD" : method);
            throw new MethodNotAllowed(e.method(), method);
        }
    }

    private HttpCookie cookie(WebExchange e, String value, long maxAge) {
        HttpCookie.Builder b = HttpCookie.build(SESSION_COOKIE, value).path("/").httpOnly(true)
                .sameSite(HttpCookie.SameSite.STRICT).secure(e.secure());
        if (maxAge >= 0) {
            b.maxAge(maxAge);
        }
        return b.build();
    }

    private ObjectNode sessionBody(Users.Principal who, String csrf) {
        ObjectNode n = JSON.createObjectNode();
        n.put("user", who.name());
        n.put("role", who.role().code());
        if (csrf != null) {
            n.put("csrfToken", csrf);
        }
        return n;
    }

    private String token() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static List<String> list(Optional<String> value) {
        return value.map(v -> java.util.Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .toList()).orElse(List.of());
    }

    private static int integer(WebExchange e, String name, int fallback, int min, int max) throws IOException {
        Optional<String> v = e.query(name);
        if (v.isEmpty()) {
            return fallback;
        }
        try {
            int i = Integer.parseInt(v.get());
            if (i < min || i > max) {
                throw new NumberFormatException();
            }
            return i;
        } catch (NumberFormatException bad) {
            throw new WebExchange.BadRequest(name + " must be an integer from " + min + " to " + max);
        }
    }

    /** 405, with the Allow header already set. */
    static final class MethodNotAllowed extends IOException {
        MethodNotAllowed(String used, String allowed) {
            super("method " + used + " not allowed: " + allowed);
        }
    }

    /** 403: a state change through a session without its CSRF token. */
    static final class Forbidden extends IOException {
        Forbidden() {
            super("missing or wrong " + CSRF_HEADER);
        }
    }

    /** Parses {@code worklist.overdue}: {@code stat=15m,asap=1h,…}. */
    public static Map<Priority, Duration> overdue(String spec) {
        Map<Priority, Duration> out = new EnumMap<>(Priority.class);
        for (String part : spec.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            String[] kv = part.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("each entry is PRIORITY=DURATION, e.g. stat=15m; was " + part.trim());
            }
            out.put(Priority.fromFhirCode(kv[0].trim()), org.cttriage.core.config.DurationSyntax.parse("worklist.overdue", kv[1].trim()));
        }
        return out;
    }
}
