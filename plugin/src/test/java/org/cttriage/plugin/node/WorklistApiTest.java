package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.cttriage.core.domain.Priority;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worklist's REST API against a running node that triaged a study received by storescu: every operation of the
 * OpenAPI document answers what the document says (status, required fields, enums), and the obvious attacks fail: no
 * cookie, a forged cookie, a cross-site POST without the CSRF token, repeated wrong passwords, path traversal, SQL
 * metacharacters in filters.
 */
@RequiresTools("storescu")
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class WorklistApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    static Path dir;

    private static WorklistNode node;
    private static String study;
    private static org.cttriage.testdata.dicom.CtSeriesWriter.WrittenSeries series;
    private static OpenAPI api;
    private final HttpClient client = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        node = new WorklistNode(dir, Optional.empty(), Map.of());
        series = PhantomSeries.write(21, 64, 20, 10, dir.resolve("ct"));
        study = series.studyInstanceUid();
        node.send(series);
        Eventually.await(WAIT, "the study on the worklist", () -> node.worklist != null
                && new org.cttriage.core.node.WorklistRepository(node.node.database()).find(study).isPresent(), b -> b);
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        options.setResolveFully(true);
        String yaml = new String(WorklistApiTest.class.getResourceAsStream("/org/cttriage/plugin/web/openapi.yaml")
                .readAllBytes(), StandardCharsets.UTF_8);
        SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(yaml, null, options);
        assertThat(parsed.getMessages()).as("the OpenAPI document is valid").isEmpty();
        api = parsed.getOpenAPI();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void everyOperationAnswersWhatTheDocumentSays() throws Exception {
        assertThat(get("/api/v1/openapi.yaml", null).statusCode()).as("the document needs no login").isEqualTo(200);
        Login reader = login("reader");
        assertThat(reader.cookie).contains("HttpOnly").contains("SameSite=Strict").contains("Path=/");

        HttpResponse<String> session = get("/api/v1/session", reader);
        conforms("/api/v1/session", "get", session);

        HttpResponse<String> list = get("/api/v1/worklist", reader);
        conforms("/api/v1/worklist", "get", list);
        JsonNode page = JSON.readTree(list.body());
        assertThat(page.get("total").asInt()).isEqualTo(1);
        JsonNode item = page.get("items").get(0);
        assertThat(item.get("studyInstanceUid").asText()).isEqualTo(study);
        assertThat(item.get("patientId").asText()).isEqualTo("PHANTOM-21");
        assertThat(item.get("state").asText()).isEqualTo("new");
        assertThat(item.get("overdue").asBoolean()).as("routine is overdue at once in this node").isTrue();
        conforms("/api/v1/worklist", "get", get("/api/v1/worklist?priority=stat,asap&state=new,dismissed"
                + "&since=2020-01-01T00:00:00Z&sort=arrival&offset=0&limit=10", reader));
        assertThat(JSON.readTree(get("/api/v1/worklist?priority=stat", reader).body()).get("total").asInt()).isZero();

        HttpResponse<String> one = get("/api/v1/studies/" + study, reader);
        conforms("/api/v1/studies/{studyUid}", "get", one);
        JsonNode detail = JSON.readTree(one.body());
        assertThat(detail.get("result").get("findings")).hasSize(16);
        JsonNode objects = detail.get("result").get("objects");
        assertThat(objects.get(0).get("modality").asText()).isEqualTo("SR");
        assertThat(objects.get(0).get("sopInstanceUid").asText())
                .isEqualTo(detail.get("result").get("srSopInstanceUid").asText());
        assertThat(objects.get(1).get("modality").asText()).isEqualTo("SEG");
        assertThat(objects.get(1).get("sopClassUid").asText()).isEqualTo("1.2.840.10008.5.1.4.1.1.66.4");
        assertThat(detail.get("series")).hasSize(1);
        conforms("/api/v1/studies/{studyUid}", "get", get("/api/v1/studies/1.2.3.999", reader));
        keyImagesAreTheSlicesThroughThePresentFindings(reader, detail);

        // A review through the session needs its CSRF token: without it, a cross-site POST is refused.
        HttpResponse<String> forged = post("/api/v1/studies/" + study + "/review", reader.cookieValue(), null,
                "{\"action\":\"reprioritise\",\"priority\":\"routine\"}", Map.of("Origin", "https://evil.example"));
        assertThat(forged.statusCode()).isEqualTo(403);
        HttpResponse<String> reviewed = post("/api/v1/studies/" + study + "/review", reader.cookieValue(), reader.csrf,
                "{\"action\":\"reprioritise\",\"priority\":\"stat\",\"comment\":\"look now\"}", Map.of());
        conforms("/api/v1/studies/{studyUid}/review", "post", reviewed);
        JsonNode after = JSON.readTree(reviewed.body());
        assertThat(after.get("priority").asText()).isEqualTo("stat");
        assertThat(after.get("reviews").get(0).get("user").asText()).isEqualTo("reader");
        assertThat(after.get("reviews").get(0).get("comment").asText()).isEqualTo("look now");
        conforms("/api/v1/studies/{studyUid}/review", "post", post("/api/v1/studies/" + study + "/review",
                reader.cookieValue(), reader.csrf, "{\"action\":\"promote\"}", Map.of()));
        conforms("/api/v1/studies/{studyUid}/review", "post", post("/api/v1/studies/1.2.3.999/review",
                reader.cookieValue(), reader.csrf, "{\"action\":\"confirm\"}", Map.of()));

        conforms("/api/v1/dead-letters", "get", get("/api/v1/dead-letters", reader));
        Login admin = login("admin");
        HttpResponse<String> dead = get("/api/v1/dead-letters", admin);
        conforms("/api/v1/dead-letters", "get", dead);
        assertThat(dead.statusCode()).isEqualTo(200);

        conforms("/api/v1/logout", "post", post("/api/v1/logout", reader.cookieValue(), null, "", Map.of()));
        conforms("/api/v1/logout", "post", post("/api/v1/logout", reader.cookieValue(), reader.csrf, "", Map.of()));
        assertThat(get("/api/v1/worklist", reader).statusCode()).as("logged out").isEqualTo(401);
    }

    /**
     * Each finding called present has a location (its organ's centre on a received slice) and a key image: a PNG
     * of that slice at the series' size with the organ's outline drawn, cached by ETag, behind the login.
     */
    private void keyImagesAreTheSlicesThroughThePresentFindings(Login reader, JsonNode detail) throws Exception {
        List<JsonNode> present = new java.util.ArrayList<>();
        detail.get("result").get("findings").forEach(f -> {
            if (f.get("present").asBoolean()) {
                present.add(f);
            }
        });
        assertThat(present).as("the reference model calls a finding on this phantom").isNotEmpty();
        java.util.Set<String> instances = new java.util.HashSet<>();
        for (Path f : series.files()) {
            com.pixelmed.dicom.AttributeList list = new com.pixelmed.dicom.AttributeList();
            list.read(f.toFile());
            instances.add(com.pixelmed.dicom.Attribute.getSingleStringValueOrEmptyString(list,
                    com.pixelmed.dicom.TagFromName.SOPInstanceUID));
        }
        for (int n = 1; n <= present.size(); n++) {
            JsonNode f = present.get(n - 1);
            JsonNode location = f.get("location");
            assertThat(location.get("method").asText()).isEqualTo("organ-centre");
            assertThat(location.get("pointLps")).hasSize(3);
            assertThat(instances).contains(location.get("sopInstanceUid").asText());
            String href = "/api/v1/studies/" + study + "/key-images/" + n + ".png";
            assertThat(f.get("keyImage").asText()).isEqualTo(href);
            HttpResponse<byte[]> png = client.send(request(href).header("Cookie", reader.cookieValue()).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(png.statusCode()).isEqualTo(200);
            assertThat(png.headers().firstValue("Content-Type")).hasValue("image/png");
            java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png.body()));
            assertThat(image.getWidth()).as("the series' columns").isEqualTo(64);
            assertThat(image.getHeight()).isEqualTo(64);
            int outline = 0;
            for (int y = 0; y < 64; y++) {
                for (int x = 0; x < 64; x++) {
                    outline += (image.getRGB(x, y) & 0xFFFFFF) == 0xFFD400 ? 1 : 0;
                }
            }
            assertThat(outline).as("the organ's outline is drawn").isPositive();
            String etag = png.headers().firstValue("ETag").orElseThrow();
            assertThat(client.send(request(href).header("Cookie", reader.cookieValue()).header("If-None-Match", etag)
                    .GET().build(), HttpResponse.BodyHandlers.ofByteArray()).statusCode()).isEqualTo(304);
            assertThat(get(href, null).statusCode()).as("no login, no image").isEqualTo(401);
        }
        assertThat(get("/api/v1/studies/" + study + "/key-images/" + (present.size() + 1) + ".png", reader).statusCode())
                .isEqualTo(404);
        assertThat(get("/api/v1/studies/1.2.3.999/key-images/1.png", reader).statusCode()).isEqualTo(404);
    }

    @Test
    void nothingWithPatientDataWithoutALogin() throws Exception {
        for (String path : List.of("/api/v1/worklist", "/api/v1/studies/" + study, "/api/v1/events", "/api/v1/session",
                "/api/v1/dead-letters")) {
            HttpResponse<String> none = get(path, null);
            assertThat(none.statusCode()).as(path).isEqualTo(401);
            assertThat(none.body()).doesNotContain("PHANTOM-21");
            HttpResponse<String> forged = client.send(request(path).header("Cookie",
                    "ctt_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(forged.statusCode()).as("forged cookie on " + path).isEqualTo(401);
            HttpResponse<String> token = client.send(request(path).header("Authorization", "Bearer ctt_forged").GET()
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(token.statusCode()).as("forged token on " + path).isEqualTo(401);
        }
        conforms("/api/v1/worklist", "get", get("/api/v1/worklist", null));
        // A machine's API token works without a cookie or CSRF token.
        String token = node.users.newToken("reader", "ris");
        HttpResponse<String> machine = client.send(request("/api/v1/worklist").header("Authorization", "Bearer " + token)
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(machine.statusCode()).isEqualTo(200);
    }

    @Test
    void repeatedWrongPasswordsLockTheUserWhateverThePassword() throws Exception {
        node.users.add("victim", WorklistNode.PASSWORD.toCharArray(), org.cttriage.plugin.web.Users.Role.READER);
        for (int i = 0; i < org.cttriage.plugin.web.Users.LOCK_AFTER; i++) {
            HttpResponse<String> wrong = postJson("/api/v1/login", "{\"user\":\"victim\",\"password\":\"guess " + i + "\"}");
            conforms("/api/v1/login", "post", wrong);
            assertThat(wrong.statusCode()).isEqualTo(401);
        }
        HttpResponse<String> locked = postJson("/api/v1/login", "{\"user\":\"victim\",\"password\":\""
                + WorklistNode.PASSWORD + "\"}");
        assertThat(locked.statusCode()).as("locked: the right password is refused too").isEqualTo(401);
        assertThat(locked.body()).isEqualTo(postJson("/api/v1/login", "{\"user\":\"nobody\",\"password\":\"x\"}").body());
        assertThat(postJson("/api/v1/login", "{\"user\":\"reader\",\"password\":\"" + WorklistNode.PASSWORD + "\"}")
                .statusCode()).as("other users are not affected").isEqualTo(200);
        assertThat(postJson("/api/v1/login", "not json").statusCode()).isEqualTo(400);
    }

    @Test
    void traversalAndInjectionGetNoFurtherThanTheirOwnError() throws Exception {
        Login reader = login("reader");
        for (String path : List.of("/worklist/../../../../etc/passwd", "/worklist/%2e%2e/%2e%2e/etc/passwd",
                "/worklist/..%2f..%2fetc%2fpasswd", "/api/v1/studies/..%2f..%2fetc%2fpasswd",
                "/worklist/app.js%00.html", "/worklist/WEB-INF/web.xml",
                "/api/v1/studies/" + study + "/key-images/..%2f..%2f..%2fetc%2fpasswd",
                "/api/v1/studies/" + study + "/key-images/1.png%2f..%2f..%2fnode.mv.db",
                "/api/v1/studies/" + study + "/key-images/0.png", "/api/v1/studies/" + study + "/key-images/-1.png")) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(node.base() + path))
                    .header("Cookie", reader.cookieValue()).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isBetween(400, 404);
            assertThat(r.body()).as(path).doesNotContain("root:");
        }
        for (String filter : List.of("priority=" + enc("stat' OR '1'='1"), "state=" + enc("new); DROP TABLE node_study;--"),
                "since=" + enc("2026' OR 1=1--"), "limit=" + enc("1;DELETE"), "sort=" + enc("priority;--"))) {
            HttpResponse<String> r = get("/api/v1/worklist?" + filter, reader);
            assertThat(r.statusCode()).as(filter).isEqualTo(400);
            conforms("/api/v1/worklist", "get", r);
        }
        assertThat(get("/api/v1/worklist", reader).statusCode()).isEqualTo(200);
        assertThat(new org.cttriage.core.node.WorklistRepository(node.node.database()).find(study)).isPresent();
        assertThat(get("/worklist/", null).body()).contains("<title>ct-triage worklist</title>");
        assertThat(get("/worklist/", null).headers().firstValue("Content-Security-Policy")).hasValueSatisfying(
                v -> assertThat(v).contains("default-src 'self'"));
    }

    @Test
    void eventsAnnounceAReviewedStudy() throws Exception {
        Login reader = login("reader");
        HttpResponse<java.io.InputStream> stream = client.send(request("/api/v1/events")
                .header("Cookie", reader.cookieValue()).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.statusCode()).isEqualTo(200);
        assertThat(stream.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/event-stream"));
        CompletableFuture<String> event = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.startsWith("data: ")) {
                        return line;
                    }
                }
                return null;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Thread.sleep(200);
        assertThat(post("/api/v1/studies/" + study + "/review", reader.cookieValue(), reader.csrf,
                "{\"action\":\"confirm\"}", Map.of()).statusCode()).isEqualTo(200);
        String data = event.get(30, TimeUnit.SECONDS);
        assertThat(data).isEqualTo("data: {\"studyInstanceUid\":\"" + study + "\",\"reason\":\"review\"}");
        stream.body().close();
    }

    /** The response matches the documented answer for its status: JSON with the schema's required fields and enums. */
    private static void conforms(String path, String method, HttpResponse<String> response) throws Exception {
        var item = api.getPaths().get(path);
        assertThat(item).as("documented path " + path).isNotNull();
        var operation = method.equals("get") ? item.getGet() : item.getPost();
        var documented = operation.getResponses().get(Integer.toString(response.statusCode()));
        assertThat(documented).as(method + " " + path + " answered " + response.statusCode() + ", not documented: "
                + response.body()).isNotNull();
        var media = documented.getContent().get("application/json");
        assertThat(media).as("JSON documented for " + response.statusCode()).isNotNull();
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("application/json"));
        List<String> problems = new ArrayList<>();
        check(media.getSchema(), JSON.readTree(response.body()), "$", problems);
        assertThat(problems).as(method + " " + path + " " + response.statusCode() + ": " + response.body()).isEmpty();
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static void check(Schema schema, JsonNode value, String where, List<String> problems) {
        if (schema == null) {
            return;
        }
        if (value.isNull()) {
            if (!Boolean.TRUE.equals(schema.getNullable())) {
                problems.add(where + " is null but not nullable");
            }
            return;
        }
        if (schema.getAllOf() != null) {
            for (Object part : schema.getAllOf()) {
                check((Schema) part, value, where, problems);
            }
        }
        String type = schema.getType();
        if ("object".equals(type) || schema.getProperties() != null) {
            if (!value.isObject()) {
                problems.add(where + " is not an object");
                return;
            }
            List<String> required = schema.getRequired() == null ? List.of() : schema.getRequired();
            for (String r : required) {
                if (!value.has(r)) {
                    problems.add(where + "." + r + " is required");
                }
            }
            if (schema.getProperties() != null) {
                Map<String, Schema> props = schema.getProperties();
                props.forEach((name, s) -> {
                    if (value.has(name)) {
                        check(s, value.get(name), where + "." + name, problems);
                    }
                });
            }
        } else if ("array".equals(type)) {
            if (!value.isArray()) {
                problems.add(where + " is not an array");
                return;
            }
            for (int i = 0; i < value.size(); i++) {
                check(schema.getItems(), value.get(i), where + "[" + i + "]", problems);
            }
        } else if ("string".equals(type)) {
            if (!value.isTextual()) {
                problems.add(where + " is not a string");
            } else if (schema.getEnum() != null && !schema.getEnum().contains(value.asText())) {
                problems.add(where + " = " + value.asText() + " is not one of " + schema.getEnum());
            }
        } else if ("integer".equals(type) && !value.isIntegralNumber()) {
            problems.add(where + " is not an integer");
        } else if ("number".equals(type) && !value.isNumber()) {
            problems.add(where + " is not a number");
        } else if ("boolean".equals(type) && !value.isBoolean()) {
            problems.add(where + " is not a boolean");
        }
    }

    private record Login(String cookie, String csrf) {
        String cookieValue() {
            return cookie.substring(0, cookie.indexOf(';'));
        }
    }

    private Login login(String user) throws Exception {
        HttpResponse<String> r = postJson("/api/v1/login", "{\"user\":\"" + user + "\",\"password\":\""
                + WorklistNode.PASSWORD + "\"}");
        conforms("/api/v1/login", "post", r);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        return new Login(cookie, JSON.readTree(r.body()).get("csrfToken").asText());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(node.base() + path)).timeout(Duration.ofSeconds(30));
    }

    private HttpResponse<String> get(String path, Login login) throws Exception {
        HttpRequest.Builder b = request(path).GET();
        if (login != null) {
            b.header("Cookie", login.cookieValue());
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> postJson(String path, String body) throws Exception {
        return client.send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String cookie, String csrf, String body, Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder b = request(path).header("Content-Type", "application/json").header("Cookie", cookie)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (csrf != null) {
            b.header("X-CSRF-Token", csrf);
        }
        headers.forEach(b::header);
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
