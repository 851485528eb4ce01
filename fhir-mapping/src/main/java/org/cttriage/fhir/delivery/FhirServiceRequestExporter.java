package org.cttriage.fhir.delivery;

import ca.uhn.fhir.rest.api.MethodOutcome;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.Exporter;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.core.node.WorklistRepository;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.ServiceRequest;

/**
 * The delivery model's exporter of the study's reading priority to the order itself: raises {@code
 * ServiceRequest.priority} of the one ServiceRequest that carries the study's accession number, never lowers it.
 *
 * <p>One attempt: search {@code ServiceRequest?identifier=<system>|<accession>} (or, with no accession system
 * configured, {@code identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|ACSN|<accession>}, the
 * identifier type the FHIR mapping gives the accession number in {@code Task.basedOn}); exactly one match is needed
 * (none: "no order", several: "ambiguous", both {@code Rejected}: a person must reconcile the order; one entered in
 * error is no order; a completed or revoked one is left alone, {@code Delivered}). When the study's
 * priority (the worklist's at the time of the attempt: raised by results, lowered only by a reader) is higher than the
 * order's (absent means routine, as R4 defines for {@code ServiceRequest.priority}), the order is written back with
 * only its priority changed by a version-checked update ({@code PUT ServiceRequest/<id>} with {@code If-Match:
 * W/"<versionId>"}); a 412 (or 409) says someone changed it meanwhile: it is read again and compared again, within
 * the same attempt, a few times. An order already at the study's priority or above is left alone and the delivery is
 * done ("already stat, not lowered"). 5xx, 408, 429 and timeouts are {@code Retry}, as for every FHIR exchange
 * ({@link FhirDelivery}).
 *
 * <p>Reasons and details name the ServiceRequest by its server id and the priorities, never the accession number or
 * any patient data.
 */
public final class FhirServiceRequestExporter implements Exporter {
    /** The identifier type the FHIR mapping gives an accession number (HL7 v2 table 0203, ACSN). */
    public static final String ACCESSION_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203|ACSN";
    /** Reads and updates one attempt makes when the order keeps changing under it (412) before it gives up for now. */
    static final int MAX_ROUNDS = 3;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, String>> ATTRIBUTES = new TypeReference<>() {
    };

    private final FhirDelivery delivery;
    private final String accessionSystem;
    private final Function<String, Optional<WorklistRepository.Entry>> worklist;

    /**
     * @param accessionSystem the identifier system of the RIS's accession numbers on the FHIR server; "" to find the
     *     order by the identifier's type (ACSN) instead
     * @param worklist the study's worklist entry, by Study Instance UID
     */
    public FhirServiceRequestExporter(FhirDelivery delivery, String accessionSystem,
            Function<String, Optional<WorklistRepository.Entry>> worklist) {
        this.delivery = Objects.requireNonNull(delivery, "delivery");
        this.accessionSystem = accessionSystem == null ? "" : accessionSystem.trim();
        if (this.accessionSystem.contains("|")) {
            throw new IllegalArgumentException("fhir.accession-system: '" + accessionSystem + "' is not allowed; allowed:"
                    + " a URI without '|', or empty");
        }
        this.worklist = Objects.requireNonNull(worklist, "worklist");
    }

    public RetryPolicy retryPolicy() {
        return delivery.retryPolicy();
    }

    @Override
    public String kind() {
        return "fhir-service-request";
    }

    @Override
    public Attempt attempt(DeliveryLedger.Delivery d) throws Exception {
        String study = d.series().studyInstanceUid();
        Optional<WorklistRepository.Entry> entry = worklist.apply(study);
        if (entry.isEmpty()) {
            return new Attempt.Retry(ErrorCode.NODE_DATABASE_FAILED.code() + " study " + study
                    + " is not on the worklist yet", null);
        }
        Priority ours = entry.get().priority();
        Map<String, String> source = d.sourceJson() != null ? JSON.readValue(d.sourceJson(), ATTRIBUTES) : Map.of();
        String accession = source.getOrDefault("AccessionNumber", "").trim();
        if (accession.isEmpty()) {
            return new Attempt.Rejected(ErrorCode.FHIR_NO_ORDER.code()
                    + " no accession number: the order (ServiceRequest) cannot be found");
        }
        String corr = d.series().key();
        for (int round = 1; round <= MAX_ROUNDS; round++) {
            FhirDelivery.Call<Bundle> found = delivery.call("the ServiceRequest search", corr,
                    client -> client.search().byUrl(searchUrl(accession)).returnBundle(Bundle.class).execute());
            if (found instanceof FhirDelivery.Call.Failed<Bundle> f) {
                return f.attempt();
            }
            List<ServiceRequest> orders = matches(((FhirDelivery.Call.Answered<Bundle>) found).value());
            if (orders.isEmpty()) {
                return new Attempt.Rejected(ErrorCode.FHIR_NO_ORDER.code() + " no order: no ServiceRequest has the"
                        + " study's accession number (" + searchedBy() + ")");
            }
            if (orders.size() > 1) {
                return new Attempt.Rejected(ErrorCode.FHIR_NO_ORDER.code() + " ambiguous: " + orders.size()
                        + " ServiceRequests have the study's accession number (" + searchedBy() + "): "
                        + orders.stream().map(o -> o.getIdElement().toUnqualifiedVersionless().getValue()).toList());
            }
            ServiceRequest order = orders.get(0);
            IdType id = order.getIdElement();
            String name = "ServiceRequest/" + id.getIdPart();
            if (order.getStatus() == ServiceRequest.ServiceRequestStatus.COMPLETED
                    || order.getStatus() == ServiceRequest.ServiceRequestStatus.REVOKED) {
                // The order is over: its priority no longer orders anything, and it is not ours to reopen.
                return new Attempt.Delivered(name + " is " + order.getStatus().toCode() + ": priority not changed");
            }
            Priority theirs = order.hasPriority() ? Priority.fromFhirCode(order.getPriority().toCode()) : Priority.ROUTINE;
            if (ours.compareTo(theirs) <= 0) {
                return new Attempt.Delivered(name + " already " + theirs.fhirCode() + (ours == theirs ? ""
                        : ", not lowered to " + ours.fhirCode()));
            }
            String version = id.hasVersionIdPart() ? id.getVersionIdPart() : order.getMeta().getVersionId();
            if (version == null || version.isBlank()) {
                return new Attempt.Rejected(ErrorCode.FHIR_NO_ORDER.code() + " " + name + " has no versionId: the"
                        + " server keeps no versions, so it cannot be updated without risking a lost update");
            }
            order.setPriority(ServiceRequest.ServiceRequestPriority.fromCode(ours.fhirCode()));
            // The version goes in If-Match only: an id with a version would let HAPI's client add its own header.
            IdType target = new IdType("ServiceRequest", id.getIdPart());
            order.setId(target);
            FhirDelivery.Call<MethodOutcome> updated = delivery.call("the ServiceRequest update", corr,
                    client -> client.update().resource(order).withId(target)
                            .withAdditionalHeader("If-Match", "W/\"" + version + "\"").execute());
            if (updated instanceof FhirDelivery.Call.Answered<MethodOutcome> ok) {
                String next = ok.value() != null && ok.value().getId() != null && ok.value().getId().hasVersionIdPart()
                        ? ", version " + ok.value().getId().getVersionIdPart() : "";
                return new Attempt.Delivered(name + " priority raised from " + theirs.fhirCode() + " to "
                        + ours.fhirCode() + next);
            }
            FhirDelivery.Call.Failed<MethodOutcome> f = (FhirDelivery.Call.Failed<MethodOutcome>) updated;
            if (f.status() != 412 && f.status() != 409) {
                return f.attempt();
            }
            // Changed since our read (a clinician, the RIS, another node): read it again and decide again.
        }
        return new Attempt.Retry(ErrorCode.FHIR_SERVER_UNAVAILABLE.code() + " the ServiceRequest changed between read"
                + " and update " + MAX_ROUNDS + " times in a row (HTTP 412); trying again later", null);
    }

    /** The search of the study's order, relative to the server's base. */
    String searchUrl(String accession) {
        String value = accessionSystem.isEmpty() ? ACCESSION_TYPE + "|" + accession : accessionSystem + "|" + accession;
        return "ServiceRequest?" + (accessionSystem.isEmpty() ? "identifier:of-type=" : "identifier=")
                + URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private String searchedBy() {
        return accessionSystem.isEmpty() ? "identifier of type ACSN" : "identifier system " + accessionSystem;
    }

    /** The ServiceRequests a search matched (not those it included, nor those entered in error: they are no orders). */
    private static List<ServiceRequest> matches(Bundle bundle) {
        return bundle.getEntry().stream()
                .filter(e -> e.getResource() instanceof ServiceRequest sr
                        && sr.getStatus() != ServiceRequest.ServiceRequestStatus.ENTEREDINERROR)
                .filter(e -> !e.hasSearch() || !e.getSearch().hasMode()
                        || e.getSearch().getMode() == Bundle.SearchEntryMode.MATCH)
                .map(e -> (ServiceRequest) e.getResource())
                .toList();
    }
}
