package org.cttriage.ups;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.cttriage.core.dicom.json.DicomJsonDataset;
import org.cttriage.core.dicom.sr.SrReference;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.Exporter;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.core.node.WorklistRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivery model's exporter to a UPS-RS server (PS3.18 §11 Worklist Service; IHE AI Workflow for Imaging): one
 * UPS workitem per study for its reading, scheduled with the study's priority, its input the node's SR.
 *
 * <p>One attempt: Create Workitem, {@code POST {base}/workitems?{uid}} with the workitem's data set
 * ({@link WorkitemMapper}; the UID derives from the study, so a repeated create names the same workitem). 201: done.
 * 409 (it exists: a retry after a lost answer, a later result of the study): Retrieve Workitem, {@code GET
 * {base}/workitems/{uid}}, then
 * <ul>
 *   <li>SCHEDULED: Update Workitem, {@code POST {base}/workitems/{uid}}, with what changed: the priority when ours is
 *       higher (never lower), the comment, the Input Information Sequence when it does not reference this result's
 *       SR; nothing changed: done ("already HIGH, not lowered");</li>
 *   <li>IN PROGRESS, COMPLETED, CANCELED: done, changing nothing, and the detail says so. PS3.4 CC.2.1.3 lets only
 *       the performer (holding the Transaction UID) set an IN PROGRESS workitem, and a final state is final: the
 *       reading has started or ended, which is what the priority was for.</li>
 * </ul>
 * 5xx, 408, 429, timeouts, refused connections and a 409 on the update (the workitem was claimed meanwhile) are
 * {@code Retry} (Retry-After honoured); 400, 401, 403, 404 and other 4xx are {@code Rejected}, with the status and the
 * Warning header's code and the attribute tags it names (its free text only at debug level: servers quote values).
 */
public final class UpsExporter implements Exporter {
    private static final Logger LOG = LoggerFactory.getLogger(UpsExporter.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, String>> ATTRIBUTES = new TypeReference<>() {
    };
    static final String DICOM_JSON = "application/dicom+json";
    private static final Pattern TAG = Pattern.compile("\\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\\)");

    /** The study's worklist entry (its priority and the findings that caused it), by Study Instance UID. */
    @FunctionalInterface
    public interface StudyEntry {
        /** Empty where the study has none yet; a failure fails the attempt (it is retried). */
        Optional<WorklistRepository.Entry> of(String studyInstanceUid) throws Exception;
    }

    private final UpsOptions options;
    private final WorkitemMapper mapper;
    private final Clock clock;
    private final StudyEntry worklist;
    private final HttpClient http;

    public UpsExporter(UpsOptions options, Clock clock, StudyEntry worklist) {
        this.options = options;
        this.mapper = new WorkitemMapper(options);
        this.clock = clock;
        this.worklist = worklist;
        this.http = HttpClient.newBuilder().connectTimeout(options.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** The retries and dead letters of the UPS-RS server ({@code ups.max-attempts} and the back-off keys). */
    public RetryPolicy retryPolicy() {
        return options.retry();
    }

    @Override
    public String kind() {
        return "ups";
    }

    @Override
    public Attempt attempt(DeliveryLedger.Delivery d) throws Exception {
        String study = d.series().studyInstanceUid();
        Optional<WorklistRepository.Entry> entry = worklist.of(study);
        if (entry.isEmpty()) {
            return new Attempt.Retry(ErrorCode.NODE_DATABASE_FAILED.code() + " study " + study
                    + " is not on the worklist yet", null);
        }
        Priority priority = entry.get().priority();
        ProcedureStepPriority ours = options.priorities().get(priority);
        Map<String, String> source = d.sourceJson() != null ? JSON.readValue(d.sourceJson(), ATTRIBUTES) : Map.of();
        SrReference sr = SrReference.read(d.srFile());
        String uid = WorkitemMapper.workitemUid(study);
        DicomJsonDataset workitem = mapper.create(study, source, sr, priority, entry.get().priorityFindings(),
                OffsetDateTime.now(clock));
        HttpResponse<String> created;
        try {
            created = send(HttpRequest.newBuilder(URI.create(options.baseUrl() + "/workitems?" + uid))
                    .header("Content-Type", DICOM_JSON)
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(List.of(workitem.toJson())))));
        } catch (IOException e) {
            return unreachable(e);
        }
        String sent = ours + " (" + priority.fhirCode() + ")";
        if (created.statusCode() / 100 == 2) {
            return new Attempt.Delivered("workitem " + uid + " created, SCHEDULED, priority " + sent
                    + (source.getOrDefault("AccessionNumber", "").isEmpty() ? "; the study has no accession number:"
                            + " no Referenced Request" : ""));
        }
        if (created.statusCode() != 409) {
            return failure(created, "Create Workitem", d.id());
        }
        return existing(uid, ours, sent, priority, entry.get().priorityFindings(), sr, d.id());
    }

    /** The workitem exists: raise and complete it while SCHEDULED, else leave it. */
    private Attempt existing(String uid, ProcedureStepPriority ours, String sent, Priority priority, List<String> causes,
            SrReference sr, long id) throws InterruptedException {
        URI item = URI.create(options.baseUrl() + "/workitems/" + uid);
        HttpResponse<String> read;
        try {
            read = send(HttpRequest.newBuilder(item).GET());
        } catch (IOException e) {
            return unreachable(e);
        }
        if (read.statusCode() != 200) {
            return failure(read, "Retrieve Workitem", id);
        }
        Map<?, ?> current = dataset(read.body());
        Optional<String> state = current == null ? Optional.empty()
                : DicomJsonDataset.firstString(current, "ProcedureStepState");
        if (state.isEmpty()) {
            return new Attempt.Retry(ErrorCode.UPS_MALFORMED_RESPONSE.code() + " Retrieve Workitem " + uid
                    + " answered no DICOM JSON workitem with a Procedure Step State", null);
        }
        if (!state.get().equals("SCHEDULED")) {
            return new Attempt.Delivered("workitem " + uid + " is " + state.get() + ": only its performer may change it"
                    + " now (PS3.4 CC.1.1), priority " + sent + " not sent");
        }
        ProcedureStepPriority theirs;
        try {
            theirs = ProcedureStepPriority.valueOf(DicomJsonDataset.firstString(current,
                    "ScheduledProcedureStepPriority").orElse("MEDIUM").trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            theirs = ProcedureStepPriority.MEDIUM;
        }
        boolean raise = ours.compareTo(theirs) > 0;
        boolean referencesOurSr = DicomJsonDataset.items(current, "InputInformationSequence").stream()
                .flatMap(i -> DicomJsonDataset.items(i, "ReferencedSOPSequence").stream())
                .anyMatch(r -> DicomJsonDataset.firstString(r, "ReferencedSOPInstanceUID")
                        .filter(sr.sopInstanceUid()::equals).isPresent());
        if (!raise && referencesOurSr) {
            return new Attempt.Delivered("workitem " + uid + " already " + theirs
                    + (ours == theirs ? "" : ", not lowered to " + ours));
        }
        DicomJsonDataset update = new DicomJsonDataset();
        if (raise) {
            update.put("ScheduledProcedureStepPriority", ours.name())
                    .put("CommentsOnTheScheduledProcedureStep", WorkitemMapper.comment(priority, causes));
        }
        if (!referencesOurSr) {
            update.putSequence("InputInformationSequence", mapper.input(sr));
        }
        HttpResponse<String> updated;
        try {
            updated = send(HttpRequest.newBuilder(item).header("Content-Type", DICOM_JSON)
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(List.of(update.toJson())))));
        } catch (IOException e) {
            return unreachable(e);
        }
        if (updated.statusCode() / 100 == 2) {
            return new Attempt.Delivered("workitem " + uid + " updated: " + (raise ? "priority raised from " + theirs
                    + " to " + sent : "priority " + theirs + " kept, not lowered") + (referencesOurSr ? ""
                    : ", input now this result's SR"));
        }
        if (updated.statusCode() == 409) {
            return new Attempt.Retry(ErrorCode.UPS_SERVER_UNAVAILABLE.code() + " Update Workitem " + uid
                    + " answered 409: it left SCHEDULED meanwhile; read again at the next attempt" + warning(updated),
                    null);
        }
        return failure(updated, "Update Workitem", id);
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        request.timeout(options.readTimeout()).header("Accept", DICOM_JSON);
        if (!options.authorization().isEmpty()) {
            request.header("Authorization", options.authorization());
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The one data set of a Retrieve Workitem answer (an array of one, or the object itself); null if unreadable. */
    private static Map<?, ?> dataset(String body) {
        try {
            Object parsed = JSON.readValue(body, Object.class);
            if (parsed instanceof List<?> l && l.size() == 1 && l.get(0) instanceof Map<?, ?> m) {
                return m;
            }
            return parsed instanceof Map<?, ?> m ? m : null;
        } catch (IOException e) {
            return null;
        }
    }

    private Attempt unreachable(IOException e) {
        return new Attempt.Retry(ErrorCode.UPS_SERVER_UNAVAILABLE.code() + " no answer from " + options.baseUrl() + ": "
                + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()), null);
    }

    private Attempt failure(HttpResponse<String> r, String transaction, long id) {
        int status = r.statusCode();
        r.headers().firstValue("Warning").ifPresent(w -> LOG.debug("delivery {}: {} answered {} Warning: {}", id,
                transaction, status, w));
        if (status >= 500 || status == 408 || status == 429) {
            return new Attempt.Retry(ErrorCode.UPS_SERVER_UNAVAILABLE.code() + " " + transaction + " answered HTTP "
                    + status + warning(r), retryAfter(r));
        }
        String why = switch (status) {
            case 401, 403 -> " (authentication: check ups.auth)";
            case 404 -> " (no Worklist Service at " + options.baseUrl() + "/workitems: check ups.url)";
            default -> "";
        };
        return new Attempt.Rejected(ErrorCode.UPS_REJECTED.code() + " " + transaction + " answered HTTP " + status + why
                + warning(r));
    }

    /** The Warning header's code and the attribute tags its text names: ", Warning 299 (0010,0020)". */
    static String warning(HttpResponse<String> r) {
        Optional<String> w = r.headers().firstValue("Warning");
        if (w.isEmpty()) {
            return "";
        }
        String code = w.get().trim().split("\\s+", 2)[0];
        List<String> tags = new ArrayList<>();
        Matcher m = TAG.matcher(w.get());
        while (m.find() && tags.size() < 10) {
            tags.add("(" + m.group(1).toUpperCase(Locale.ROOT) + "," + m.group(2).toUpperCase(Locale.ROOT) + ")");
        }
        return ", Warning " + (code.matches("\\d{3}") ? code : "?") + (tags.isEmpty() ? "" : " " + String.join(" ", tags));
    }

    private Duration retryAfter(HttpResponse<String> r) {
        return r.headers().firstValue("Retry-After").filter(v -> v.trim().matches("\\d{1,9}"))
                .map(v -> Duration.ofSeconds(Long.parseLong(v.trim())))
                .map(d -> d.compareTo(options.retry().maxBackoff()) > 0 ? options.retry().maxBackoff() : d)
                .orElse(null);
    }
}
