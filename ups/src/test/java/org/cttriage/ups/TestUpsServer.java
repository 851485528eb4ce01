package org.cttriage.ups;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * A UPS-RS origin server for tests: a real HTTP server on 127.0.0.1 (ephemeral port) serving the Worklist Service's
 * Create, Retrieve and Update Workitem transactions (PS3.18 §11.4–11.6) over an in-memory worklist, and checking
 * every request as a strict server would before it acts on it:
 * <ul>
 *   <li>method, path ({@code /rs/workitems}, {@code /rs/workitems/{uid}}), the create's query being exactly one
 *       valid UID (PS3.5 9.1: digits and dots, no leading zero in a component, at most 64 characters);</li>
 *   <li>media types: {@code Content-Type: application/dicom+json} on POST (415 otherwise), {@code Accept} naming it
 *       (406 otherwise);</li>
 *   <li>the DICOM JSON Model (PS3.18 F.2): an array of one data set; every key eight upper case hex digits; every
 *       attribute an object with a {@code vr} and, when valued, a {@code Value} array; strings for string VRs,
 *       {@code {"Alphabetic": …}} for PN, data sets for SQ; the VR the data dictionary gives the tag;</li>
 *   <li>create (PS3.4 Table CC.2.5-3, N-CREATE, SCU): the Type 1 attributes present with a value, the Type 2 present,
 *       in the sequences too; Procedure Step State SCHEDULED; priority HIGH, MEDIUM or LOW; no Transaction UID; an
 *       existing UID answers 409;</li>
 *   <li>update (N-SET): never the Procedure Step State (changed only by Change State), the Transaction UID or the
 *       SOP UIDs; allowed without a Transaction UID only while SCHEDULED (409 otherwise).</li>
 * </ul>
 * A refused request is answered 400 with a {@code Warning: 299} header, as PS3.18 8.6.2 has servers explain it, and
 * recorded in {@link #violations()}, so that a test sees any rule the node broke.
 *
 * <p>For outage tests: {@link #unavailable(boolean)} (503 with Retry-After before anything is processed),
 * {@link #loseNextAnswers(int)} (processed, then answered 502 as by a failing gateway), {@link #stopListening()} /
 * {@link #resumeListening()} (connections refused, then accepted on the same port), and {@link #setState} (a
 * performer claimed or finished the workitem).
 */
public final class TestUpsServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DICOM_JSON = "application/dicom+json";
    private static final Pattern UID = Pattern.compile("(0|[1-9][0-9]*)(\\.(0|[1-9][0-9]*))*");
    private static final Pattern HEX_TAG = Pattern.compile("[0-9A-F]{8}");
    private static final Pattern DT = Pattern.compile("\\d{4}(\\d{2}(\\d{2}(\\d{2}(\\d{2}(\\d{2}(\\.\\d{1,6})?)?)?)?)?)?"
            + "([+-]\\d{4})?");
    private static final Set<String> STRING_VRS = Set.of("AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM",
            "UC", "UI", "UR", "UT");

    /** The VRs of the attributes a workitem of this node may carry, as PS3.6 lists them (hex: the stub's own table). */
    static final Map<String, String> VR = Map.ofEntries(
            Map.entry("00080005", "CS"), Map.entry("00080016", "UI"), Map.entry("00080018", "UI"),
            Map.entry("00080050", "SH"), Map.entry("00080051", "SQ"), Map.entry("00080054", "AE"),
            Map.entry("00080100", "SH"), Map.entry("00080102", "SH"), Map.entry("00080104", "LO"),
            Map.entry("00081080", "LO"), Map.entry("00081084", "SQ"), Map.entry("00081150", "UI"),
            Map.entry("00081155", "UI"), Map.entry("00081195", "UI"), Map.entry("00081199", "SQ"),
            Map.entry("00100010", "PN"), Map.entry("00100020", "LO"), Map.entry("00100021", "LO"),
            Map.entry("00100030", "DA"), Map.entry("00100040", "CS"), Map.entry("0020000D", "UI"),
            Map.entry("0020000E", "UI"), Map.entry("00321060", "LO"), Map.entry("00321064", "SQ"),
            Map.entry("00380010", "LO"), Map.entry("00380014", "SQ"), Map.entry("00400400", "LT"),
            Map.entry("00401001", "SH"), Map.entry("00402016", "LO"), Map.entry("00402017", "LO"),
            Map.entry("00404005", "DT"), Map.entry("00404018", "SQ"), Map.entry("00404021", "SQ"),
            Map.entry("00404025", "SQ"), Map.entry("00404026", "SQ"), Map.entry("00404027", "SQ"),
            Map.entry("00404041", "CS"), Map.entry("0040A370", "SQ"), Map.entry("0040E020", "CS"),
            Map.entry("0040E021", "SQ"), Map.entry("00741000", "CS"), Map.entry("00741200", "CS"),
            Map.entry("00741202", "LO"), Map.entry("00741204", "LO"));

    /** N-CREATE Type 1 at the top level (present, with a value). */
    static final List<String> CREATE_TYPE_1 = List.of("00741200", "00741204", "00404005", "00404041", "00741000");
    /** N-CREATE Type 2 at the top level (present, maybe empty). */
    static final List<String> CREATE_TYPE_2 = List.of("00404025", "00404026", "00404027", "00404018", "00404021",
            "00100010", "00100020", "00100030", "00100040", "00380010", "00380014", "00081080", "00081084", "0040A370");
    /** Never set by Update Workitem (PS3.4 CC.2.6; PS3.18 11.6). */
    static final List<String> NOT_UPDATABLE = List.of("00741000", "00081195", "00080016", "00080018");

    /** One request as received, and what it was answered. */
    public record Received(String method, String path, String query, String contentType, String accept, String body,
            int status) {
    }

    private final Map<String, Map<String, Object>> workitems = new LinkedHashMap<>();
    private final Map<String, String> transactions = new LinkedHashMap<>();
    private final List<Received> received = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final AtomicBoolean unavailable = new AtomicBoolean();
    private final AtomicInteger answersToLose = new AtomicInteger();
    private volatile String authorization;
    private volatile Answer scripted;
    private final int port;
    private HttpServer server;

    public TestUpsServer() throws IOException {
        server = start(0);
        port = server.getAddress().getPort();
    }

    private HttpServer start(int on) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), on), 16);
        s.createContext("/", this::handle);
        s.start();
        return s;
    }

    /** The DICOMweb base ({@code ups.url}): {@code http://127.0.0.1:<port>/rs}. */
    public URI base() {
        return URI.create("http://127.0.0.1:" + port + "/rs");
    }

    public int port() {
        return port;
    }

    /** While true, every request is answered 503 with {@code Retry-After: 1} and processed no further. */
    public void unavailable(boolean on) {
        unavailable.set(on);
    }

    /** The next {@code n} requests are processed but answered 502. */
    public void loseNextAnswers(int n) {
        answersToLose.set(n);
    }

    /** Every request must carry this Authorization header, else 401 (null: none needed). */
    public void requireAuthorization(String value) {
        authorization = value;
    }

    /** The next request is answered {@code status} with this Warning header, unprocessed (as a server's own refusal). */
    public void answerNext(int status, String warning) {
        scripted = new Answer(status, "", Map.of("Warning", warning));
    }

    /** Closes the listening socket: connections are refused until {@link #resumeListening()}. */
    public synchronized void stopListening() {
        server.stop(0);
    }

    /** Listens again, on the port first bound. */
    public synchronized void resumeListening() throws IOException {
        server = start(port);
    }

    /** A performer's Change State: {@code state} (IN PROGRESS with a Transaction UID, COMPLETED, CANCELED). */
    public synchronized void setState(String uid, String state) {
        Map<String, Object> w = workitems.get(uid);
        w.put("00741000", attribute("CS", state));
        transactions.put(uid, "2.25.1" + uid.hashCode());
    }

    /** The workitems, by SOP Instance UID, as stored (each a DICOM JSON data set). */
    public synchronized Map<String, Map<String, Object>> workitems() {
        return new LinkedHashMap<>(workitems);
    }

    /** Every request received, in order. */
    public synchronized List<Received> received() {
        return List.copyOf(received);
    }

    /** Every rule a request broke, as answered with 400/406/415. */
    public synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    /** Forgets workitems, requests and violations. */
    public synchronized void clear() {
        workitems.clear();
        transactions.clear();
        received.clear();
        violations.clear();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private record Answer(int status, String body, Map<String, String> headers) {
        static Answer of(int status) {
            return new Answer(status, "", Map.of());
        }
    }

    private void handle(HttpExchange x) throws IOException {
        String body;
        try (InputStream in = x.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Answer a;
        Answer script = scripted;
        scripted = null;
        if (script != null) {
            a = script;
        } else if (authorization != null && !authorization.equals(x.getRequestHeaders().getFirst("Authorization"))) {
            a = Answer.of(401);
        } else if (unavailable.get()) {
            a = new Answer(503, "", Map.of("Retry-After", "1"));
        } else {
            synchronized (this) {
                a = answer(x.getRequestMethod(), x.getRequestURI().getRawPath(), x.getRequestURI().getRawQuery(),
                        x.getRequestHeaders().getFirst("Content-Type"), x.getRequestHeaders().getFirst("Accept"), body);
            }
            if (answersToLose.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                a = new Answer(502, "", Map.of());
            }
        }
        synchronized (this) {
            received.add(new Received(x.getRequestMethod(), x.getRequestURI().getRawPath(), x.getRequestURI().getRawQuery(),
                    x.getRequestHeaders().getFirst("Content-Type"), x.getRequestHeaders().getFirst("Accept"), body,
                    a.status()));
        }
        a.headers().forEach((k, v) -> x.getResponseHeaders().add(k, v));
        byte[] bytes = a.body().getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 0) {
            x.getResponseHeaders().add("Content-Type", DICOM_JSON);
        }
        x.sendResponseHeaders(a.status(), bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }

    private Answer refuse(int status, String why) {
        violations.add(why);
        return new Answer(status, "", Map.of("Warning", "299 127.0.0.1: " + why));
    }

    private Answer answer(String method, String path, String query, String contentType, String accept, String body) {
        if (accept == null || !accept.contains(DICOM_JSON)) {
            return refuse(406, "Accept does not name " + DICOM_JSON + ": " + accept);
        }
        if (method.equals("POST") && (contentType == null || !contentType.split(";")[0].trim().equals(DICOM_JSON))) {
            return refuse(415, "Content-Type is not " + DICOM_JSON + ": " + contentType);
        }
        if (path.equals("/rs/workitems")) {
            if (!method.equals("POST")) {
                return refuse(405, method + " on /workitems is not Create Workitem");
            }
            return create(query, body);
        }
        if (path.startsWith("/rs/workitems/")) {
            String uid = path.substring("/rs/workitems/".length());
            if (!validUid(uid)) {
                return refuse(400, "not a UID in the path: " + uid);
            }
            if (method.equals("GET")) {
                if (query != null) {
                    return refuse(400, "Retrieve Workitem takes no query");
                }
                Map<String, Object> w = workitems.get(uid);
                if (w == null) {
                    return Answer.of(404);
                }
                try {
                    return new Answer(200, JSON.writeValueAsString(List.of(w)), Map.of());
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
            if (method.equals("POST")) {
                return update(uid, query, body);
            }
        }
        return refuse(404, method + " " + path + " is not a Worklist Service resource");
    }

    private Answer create(String query, String body) {
        if (query == null || !validUid(query)) {
            return refuse(400, "Create Workitem's query is not one workitem UID: " + query);
        }
        Map<String, Object> d = dataset(body);
        if (d == null) {
            return Answer.of(400);
        }
        List<String> problems = new ArrayList<>();
        for (String t : CREATE_TYPE_1) {
            if (!valued(d, t)) {
                problems.add("Type 1 attribute (" + t.substring(0, 4) + "," + t.substring(4) + ") missing or empty");
            }
        }
        for (String t : CREATE_TYPE_2) {
            if (!d.containsKey(t)) {
                problems.add("Type 2 attribute (" + t.substring(0, 4) + "," + t.substring(4) + ") missing");
            }
        }
        if (!"SCHEDULED".equals(first(d, "00741000"))) {
            problems.add("Procedure Step State (0074,1000) is not SCHEDULED on create");
        }
        if (!Set.of("HIGH", "MEDIUM", "LOW").contains(first(d, "00741200"))) {
            problems.add("Scheduled Procedure Step Priority (0074,1200) is not HIGH, MEDIUM or LOW");
        }
        if (!Set.of("READY", "INCOMPLETE", "UNAVAILABLE").contains(first(d, "00404041"))) {
            problems.add("Input Readiness State (0040,4041) is not READY, INCOMPLETE or UNAVAILABLE");
        }
        if (first(d, "00404005") != null && !DT.matcher(first(d, "00404005")).matches()) {
            problems.add("Scheduled Procedure Step Start DateTime (0040,4005) is not a DT");
        }
        if (d.containsKey("00081195")) {
            problems.add("Transaction UID (0008,1195) on create");
        }
        if (d.containsKey("00080018") && !query.equals(first(d, "00080018"))) {
            problems.add("SOP Instance UID (0008,0018) differs from the workitem UID in the URL");
        }
        for (Map<?, ?> code : items(d, "00404018")) {
            for (String t : List.of("00080100", "00080102", "00080104")) {
                if (!valued(code, t)) {
                    problems.add("Scheduled Workitem Code Sequence item lacks (" + t.substring(0, 4) + "," + t.substring(4) + ")");
                }
            }
        }
        for (Map<?, ?> input : items(d, "00404021")) {
            for (String t : List.of("0040E020", "0020000D", "0020000E", "00081199")) {
                if (!valued(input, t)) {
                    problems.add("Input Information Sequence item lacks (" + t.substring(0, 4) + "," + t.substring(4) + ")");
                }
            }
            for (Map<?, ?> sop : items(input, "00081199")) {
                if (!valued(sop, "00081150") || !valued(sop, "00081155")) {
                    problems.add("Referenced SOP Sequence item lacks its SOP Class or Instance UID");
                }
            }
            if (items(input, "0040E021").stream().noneMatch(r -> valued(r, "00080054"))) {
                problems.add("Input Information Sequence item has no DICOM Retrieval Sequence with a Retrieve AE Title");
            }
        }
        for (Map<?, ?> request : items(d, "0040A370")) {
            if (!valued(request, "0020000D")) {
                problems.add("Referenced Request Sequence item lacks Study Instance UID (0020,000D)");
            }
            for (String t : List.of("00080050", "00080051", "00401001", "00321060", "00321064")) {
                if (!request.containsKey(t)) {
                    problems.add("Referenced Request Sequence item lacks Type 2 (" + t.substring(0, 4) + "," + t.substring(4) + ")");
                }
            }
        }
        if (!problems.isEmpty()) {
            return refuse(400, String.join("; ", problems));
        }
        if (workitems.containsKey(query)) {
            return new Answer(409, "", Map.of("Warning", "299 127.0.0.1: The Workitem already exists"));
        }
        workitems.put(query, d);
        return new Answer(201, "", Map.of("Content-Location", base() + "/workitems/" + query));
    }

    private Answer update(String uid, String query, String body) {
        Map<String, Object> w = workitems.get(uid);
        if (w == null) {
            return Answer.of(404);
        }
        Map<String, Object> d = dataset(body);
        if (d == null) {
            return Answer.of(400);
        }
        for (String t : NOT_UPDATABLE) {
            if (d.containsKey(t)) {
                return refuse(400, "Update Workitem may not set (" + t.substring(0, 4) + "," + t.substring(4) + ")");
            }
        }
        if (d.containsKey("00741200") && !Set.of("HIGH", "MEDIUM", "LOW").contains(first(d, "00741200"))) {
            return refuse(400, "Scheduled Procedure Step Priority (0074,1200) is not HIGH, MEDIUM or LOW");
        }
        String state = first(w, "00741000");
        if (!"SCHEDULED".equals(state) && !(query != null && query.equals(transactions.get(uid))
                && "IN PROGRESS".equals(state))) {
            return new Answer(409, "", Map.of("Warning", "299 127.0.0.1: The Workitem is " + state
                    + " and the Transaction UID is missing or wrong"));
        }
        w.putAll(d);
        return Answer.of(200);
    }

    /** The request's one data set, every attribute checked against the DICOM JSON Model; null (recorded) if not. */
    private Map<String, Object> dataset(String body) {
        Object parsed;
        try {
            parsed = JSON.readValue(body, Object.class);
        } catch (IOException e) {
            violations.add("the payload is not JSON");
            return null;
        }
        if (!(parsed instanceof List<?> l) || l.size() != 1 || !(l.get(0) instanceof Map<?, ?> m)) {
            violations.add("the payload is not a DICOM JSON array of one data set");
            return null;
        }
        List<String> problems = new ArrayList<>();
        check(m, "", problems);
        if (!problems.isEmpty()) {
            violations.addAll(problems);
            return null;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put((String) k, v));
        return out;
    }

    private static void check(Map<?, ?> d, String at, List<String> problems) {
        for (Map.Entry<?, ?> e : d.entrySet()) {
            String tag = String.valueOf(e.getKey());
            String where = at + tag;
            if (!HEX_TAG.matcher(tag).matches()) {
                problems.add(where + ": a key is not eight upper case hex digits");
                continue;
            }
            if (!(e.getValue() instanceof Map<?, ?> a) || !(a.get("vr") instanceof String vr)) {
                problems.add(where + ": not an object with a vr");
                continue;
            }
            if (!VR.containsKey(tag)) {
                problems.add(where + ": an attribute this server's table does not know");
            } else if (!VR.get(tag).equals(vr)) {
                problems.add(where + ": vr " + vr + ", the dictionary says " + VR.get(tag));
            }
            for (Object k : a.keySet()) {
                if (!k.equals("vr") && !k.equals("Value")) {
                    problems.add(where + ": member " + k + " (only vr and Value here)");
                }
            }
            if (!a.containsKey("Value")) {
                continue;
            }
            if (!(a.get("Value") instanceof List<?> values)) {
                problems.add(where + ": Value is not an array");
                continue;
            }
            for (Object v : values) {
                if (vr.equals("SQ")) {
                    if (v instanceof Map<?, ?> item) {
                        check(item, where + ">", problems);
                    } else {
                        problems.add(where + ": a sequence item is not an object");
                    }
                } else if (vr.equals("PN")) {
                    if (!(v instanceof Map<?, ?> pn) || !pn.keySet().stream().allMatch(k -> Set.of("Alphabetic",
                            "Ideographic", "Phonetic").contains(k))) {
                        problems.add(where + ": a PN value is not an object of component groups");
                    }
                } else if (STRING_VRS.contains(vr) && !(v instanceof String)) {
                    problems.add(where + ": a " + vr + " value is not a string");
                }
            }
        }
    }

    private static boolean validUid(String s) {
        return s.length() <= 64 && UID.matcher(s).matches();
    }

    private static boolean valued(Map<?, ?> d, String tag) {
        return d.get(tag) instanceof Map<?, ?> a && a.get("Value") instanceof List<?> v && !v.isEmpty()
                && !(v.get(0) instanceof String s && s.isBlank());
    }

    static String first(Map<?, ?> d, String tag) {
        return d.get(tag) instanceof Map<?, ?> a && a.get("Value") instanceof List<?> v && !v.isEmpty()
                && v.get(0) instanceof String s ? s : null;
    }

    static List<Map<?, ?>> items(Map<?, ?> d, String tag) {
        List<Map<?, ?>> out = new ArrayList<>();
        if (d.get(tag) instanceof Map<?, ?> a && a.get("Value") instanceof List<?> v) {
            for (Object o : v) {
                if (o instanceof Map<?, ?> m) {
                    out.add(m);
                }
            }
        }
        return out;
    }

    private static Map<String, Object> attribute(String vr, String value) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("vr", vr);
        a.put("Value", List.of(value));
        return a;
    }
}
