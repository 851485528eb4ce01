package org.cttriage.core.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.cttriage.core.domain.ModelIdentity;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.io.Sha256;

/**
 * A verified model package: every file listed in manifest.json has the SHA-256 the manifest
 * says, and the manifest, dictionary and vocabulary parse. The ONNX sessions' real inputs and
 * outputs are checked against the manifest when the {@link InferenceEngine} opens them.
 *
 * @param folder        where the package lies
 * @param manifest      manifest.json
 * @param identity      name, version, SHA-256 of manifest.json
 * @param preprocessing model input preprocessing
 * @param dictionary    organs and findings, calibrated
 * @param vocabulary    tokens by id
 * @param cropSpec      the organ crops of a two-stage package (manifest {@code "organCrops"}); null for a
 *                      single-stage package
 */
public record ModelPackage(Path folder, JsonNode manifest, ModelIdentity identity, PreprocessingSpec preprocessing,
                           AbnormalityDictionary dictionary, List<String> vocabulary, OrganCropSpec cropSpec) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Loads and verifies the package in {@code folder}. */
    public static ModelPackage load(Path folder) throws TriageException {
        Path manifestFile = folder.resolve("manifest.json");
        if (!Files.isRegularFile(manifestFile)) {
            throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "no manifest.json in " + folder);
        }
        JsonNode manifest;
        try {
            manifest = JSON.readTree(manifestFile.toFile());
        } catch (IOException e) {
            throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "manifest.json does not parse: " + e.getMessage(), e);
        }
        JsonNode files = manifest.path("files");
        if (!files.isObject() || files.isEmpty()) {
            throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "manifest.json lists no files with SHA-256");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = files.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Path file = folder.resolve(e.getKey()).normalize();
            if (!file.startsWith(folder.normalize()) || !Files.isRegularFile(file)) {
                throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "file " + e.getKey()
                        + " listed in manifest.json is missing from " + folder);
            }
            String actual = sha256(file);
            if (!actual.equalsIgnoreCase(e.getValue().asText())) {
                throw new TriageException(ErrorCode.MODEL_CHECKSUM_MISMATCH, "file " + e.getKey() + " has SHA-256 "
                        + actual + ", manifest.json says " + e.getValue().asText());
            }
        }
        List<String> requiredFiles = new ArrayList<>(List.of(imageEncoderFile(manifest), textEncoderFile(manifest),
                "dictionary.json", "vocabulary.txt"));
        JsonNode crops = manifest.path("organCrops");
        if (!crops.isMissingNode()) {
            requiredFiles.add(crops.path("spec").asText());
            requiredFiles.add(crops.path("textEncoder").path("file").asText());
            crops.path("encoders").forEach(e -> requiredFiles.add(e.path("file").asText()));
            crops.path("lesionDetectors").path("detectors").forEach(e -> requiredFiles.add(e.path("file").asText()));
        }
        JsonNode refiner = manifest.path("segmentationRefiner");
        if (!refiner.isMissingNode()) {
            requiredFiles.add(refiner.path("file").asText());
        }
        for (String required : requiredFiles) {
            if (!files.has(required)) {
                throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "manifest.json does not list " + required
                        + " with its SHA-256");
            }
        }
        try {
            PreprocessingSpec pre = PreprocessingSpec.fromJson(manifest.path("preprocessing"));
            AbnormalityDictionary dictionary = AbnormalityDictionary.fromJson(JSON.readTree(
                    folder.resolve("dictionary.json").toFile()));
            List<String> vocabulary = new ArrayList<>(Files.readAllLines(folder.resolve("vocabulary.txt")));
            vocabulary.removeIf(String::isEmpty);
            ModelIdentity identity = new ModelIdentity(manifest.path("name").asText(), manifest.path("version").asText(),
                    sha256(manifestFile));
            if (identity.name().isEmpty() || identity.version().isEmpty()) {
                throw new IllegalArgumentException("manifest.json needs name and version");
            }
            OrganCropSpec cropSpec = crops.isMissingNode() ? null
                    : OrganCropSpec.fromJson(JSON.readTree(folder.resolve(crops.path("spec").asText()).toFile()));
            if (cropSpec != null) {
                for (Iterator<String> it = crops.path("findingChannels").fieldNames(); it.hasNext(); ) {
                    String id = it.next();
                    if (dictionary.findings().stream().noneMatch(f -> f.id().equals(id))) {
                        throw new IllegalArgumentException("organCrops.findingChannels names " + id
                                + ", which dictionary.json does not have");
                    }
                }
                for (Iterator<String> it = crops.path("encoders").fieldNames(); it.hasNext(); ) {
                    String organ = it.next();
                    cropSpec.organ(organ); // throws when the spec has no grid for it
                    if (!dictionary.organs().containsKey(organ)) {
                        throw new IllegalArgumentException("organCrops.encoders names organ " + organ
                                + ", which dictionary.json does not have");
                    }
                }
            }
            return new ModelPackage(folder, manifest, identity, pre, dictionary, List.copyOf(vocabulary), cropSpec);
        } catch (IOException | IllegalArgumentException e) {
            throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "model package " + folder + ": " + e.getMessage(), e);
        }
    }

    static String imageEncoderFile(JsonNode manifest) {
        return manifest.path("imageEncoder").path("file").asText("image_encoder.onnx");
    }

    static String textEncoderFile(JsonNode manifest) {
        return manifest.path("textEncoder").path("file").asText("text_encoder.onnx");
    }

    /** The tokenizer the manifest describes. */
    public Tokenizer tokenizer() {
        JsonNode t = manifest.path("tokenizer");
        return new Tokenizer(vocabulary, t.path("maxTokens").asInt(16), t.path("padId").asInt(0), t.path("unknownId").asInt(1));
    }

    /** Hex SHA-256 of a file; an unreadable file is an invalid package. */
    public static String sha256(Path file) throws TriageException {
        try {
            return Sha256.ofFile(file);
        } catch (IOException e) {
            throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
