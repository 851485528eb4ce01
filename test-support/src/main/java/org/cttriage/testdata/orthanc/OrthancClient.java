package org.cttriage.testdata.orthanc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The few calls of Orthanc's REST API that tests need (Orthanc 1.10.1, no authentication). Every
 * failure is an {@link IOException} carrying the method, path, HTTP status and Orthanc's answer.
 */
public final class OrthancClient {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    /** Orthanc identifiers are SHA-1 based hex groups; modality names are ours. Nothing else goes in a path. */
    private static final Pattern PATH_SEGMENT = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final HttpClient http;

    /** A client for the Orthanc whose REST API is at {@code base} (e.g. {@code http://127.0.0.1:8042/}). */
    public OrthancClient(URI base) {
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
        // HTTP/1.1 without the h2c upgrade headers the JDK adds by default; Orthanc's CivetWeb
        // speaks HTTP/1.1 only.
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT).build();
    }

    /** What {@code POST /instances} answered for one uploaded file. */
    public record StoredInstance(String id, String status, String parentPatient, String parentStudy,
                                 String parentSeries) {
    }

    /**
     * One series, from {@code GET /series/{id}}.
     *
     * @param id                Orthanc's identifier of the series
     * @param seriesInstanceUid Series Instance UID
     * @param modality          Modality ("CT", "SR"…)
     * @param instances         Orthanc's identifiers of its instances
     * @param stable            whether Orthanc has declared it stable ("IsStable")
     */
    public record Series(String id, String seriesInstanceUid, String modality, List<String> instances,
                         boolean stable) {
        public Series {
            instances = List.copyOf(instances);
        }

        public int instanceCount() {
            return instances.size();
        }
    }

    /**
     * One Orthanc job, from {@code GET /jobs?expand}.
     *
     * @param id              job identifier
     * @param type            e.g. "DicomModalityStore" for a C-STORE to a modality
     * @param state           "Pending", "Running", "Success", "Failure", "Paused" or "Retry"
     * @param errorDescription Orthanc's words for the outcome ("Success" when it succeeded)
     * @param remoteAet       for a store job, the AE title sent to; otherwise empty
     * @param parentResources for a store job, the resources it was asked to send (series ids, …)
     */
    public record Job(String id, String type, String state, String errorDescription, String remoteAet,
                      List<String> parentResources) {
        public Job {
            parentResources = List.copyOf(parentResources);
        }
    }

    /** {@code GET /system}: name, version, AE title and ports. */
    public JsonNode system() throws IOException, InterruptedException {
        return get("system");
    }

    /** Uploads one DICOM file ({@code POST /instances}); "AlreadyStored" is a success too. */
    public StoredInstance upload(Path dicomFile) throws IOException, InterruptedException {
        JsonNode r = send("POST", "instances", HttpRequest.BodyPublishers.ofFile(dicomFile), "application/dicom");
        return new StoredInstance(r.path("ID").asText(), r.path("Status").asText(),
                r.path("ParentPatient").asText(), r.path("ParentStudy").asText(), r.path("ParentSeries").asText());
    }

    /** Orthanc's identifiers of every study it holds ({@code GET /studies}). */
    public List<String> studies() throws IOException, InterruptedException {
        return texts(get("studies"));
    }

    /** Orthanc's identifier of the study with this Study Instance UID, if it holds it ({@code POST /tools/lookup}). */
    public Optional<String> findStudy(String studyInstanceUid) throws IOException, InterruptedException {
        JsonNode r = send("POST", "tools/lookup", HttpRequest.BodyPublishers.ofString(studyInstanceUid), "text/plain");
        for (JsonNode hit : r) {
            if ("Study".equals(hit.path("Type").asText())) {
                return Optional.of(hit.path("ID").asText());
            }
        }
        return Optional.empty();
    }

    /** The series of a study ({@code GET /studies/{id}/series}). */
    public List<Series> seriesOfStudy(String studyId) throws IOException, InterruptedException {
        List<Series> out = new ArrayList<>();
        for (JsonNode s : get("studies/" + segment(studyId) + "/series")) {
            out.add(series(s));
        }
        return out;
    }

    /** One series ({@code GET /series/{id}}). */
    public Series series(String seriesId) throws IOException, InterruptedException {
        return series(get("series/" + segment(seriesId)));
    }

    /**
     * An instance's tags by keyword ({@code GET /instances/{id}/simplified-tags}): strings for
     * values, arrays of objects for sequences.
     */
    public JsonNode simplifiedTags(String instanceId) throws IOException, InterruptedException {
        return get("instances/" + segment(instanceId) + "/simplified-tags");
    }

    /** The DICOM file of an instance as Orthanc stored it ({@code GET /instances/{id}/file}). */
    public byte[] instanceFile(String instanceId) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = http.send(request("instances/" + segment(instanceId) + "/file").GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        check("GET", "instances/" + instanceId + "/file", r.statusCode(),
                () -> new String(r.body(), StandardCharsets.UTF_8));
        return r.body();
    }

    /** Orthanc's recent jobs, oldest first as Orthanc lists them ({@code GET /jobs?expand}). */
    public List<Job> jobs() throws IOException, InterruptedException {
        List<Job> out = new ArrayList<>();
        for (JsonNode j : get("jobs?expand")) {
            JsonNode content = j.path("Content");
            out.add(new Job(j.path("ID").asText(), j.path("Type").asText(), j.path("State").asText(),
                    j.path("ErrorDescription").asText(), content.path("RemoteAet").asText(),
                    texts(content.path("ParentResources"))));
        }
        return out;
    }

    /**
     * Creates or replaces the DICOM modality {@code name} ({@code PUT /modalities/{name}}): Orthanc
     * sends to it, and accepts associations from its AE title at {@code host}.
     */
    public void putModality(String name, String aet, String host, int port) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("AET", aet).put("Host", host).put("Port", port);
        send("PUT", "modalities/" + segment(name), HttpRequest.BodyPublishers.ofString(body.toString()),
                "application/json");
    }

    /**
     * Sends a resource (a series, a study…) to the DICOM modality {@code name} and returns once the
     * transfer has finished ({@code POST /modalities/{name}/store}, synchronous): what the routing
     * script asks for asynchronously, for tests that need a second routing now. Returns how many
     * instances were sent; a failed transfer is an {@link IOException}.
     */
    public int storeToModality(String name, String resourceId) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("Synchronous", true);
        body.putArray("Resources").add(segment(resourceId));
        JsonNode r = send("POST", "modalities/" + segment(name) + "/store",
                HttpRequest.BodyPublishers.ofString(body.toString()), "application/json");
        if (r.path("FailedInstancesCount").asInt(0) != 0) {
            throw new IOException("Orthanc could not send every instance of " + resourceId + " to " + name + ": " + r);
        }
        return r.path("InstancesCount").asInt();
    }

    private static Series series(JsonNode s) {
        JsonNode tags = s.path("MainDicomTags");
        return new Series(s.path("ID").asText(), tags.path("SeriesInstanceUID").asText(),
                tags.path("Modality").asText(), texts(s.path("Instances")), s.path("IsStable").asBoolean());
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : array) {
            out.add(n.asText());
        }
        return out;
    }

    private static String segment(String s) {
        if (s == null || !PATH_SEGMENT.matcher(s).matches()) {
            throw new IllegalArgumentException("not an Orthanc identifier or modality name: " + s);
        }
        return s;
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request(path).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        check("GET", path, r.statusCode(), r::body);
        return JSON.readTree(r.body());
    }

    private JsonNode send(String method, String path, HttpRequest.BodyPublisher body, String contentType)
            throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request(path).header("Content-Type", contentType).method(method, body)
                .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        check(method, path, r.statusCode(), r::body);
        String text = r.body();
        return text == null || text.isBlank() ? JSON.createObjectNode() : JSON.readTree(text);
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT);
    }

    private static void check(String method, String path, int status, java.util.function.Supplier<String> body)
            throws IOException {
        if (status / 100 != 2) {
            throw new IOException("Orthanc answered " + method + " /" + path + " with HTTP " + status + ": "
                    + body.get());
        }
    }
}
