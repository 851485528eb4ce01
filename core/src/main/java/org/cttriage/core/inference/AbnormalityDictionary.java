package org.cttriage.core.inference;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.cttriage.core.domain.CodedConcept;
import org.cttriage.core.domain.Priority;

/**
 * The abnormality dictionary of a model package: organs (label, code) and findings (organ,
 * code, severity, prompts, calibration). It is data, not code: a site may load a package
 * with another list.
 *
 * @param organs   by id, in label order
 * @param findings in dictionary order
 */
public record AbnormalityDictionary(Map<String, Organ> organs, List<Finding> findings) {

    /** An organ the image encoder segments and embeds. */
    public record Organ(String id, int label, CodedConcept code) {
    }

    /**
     * A finding and how to score it: probability = sigmoid((mean cos(organ, positive) − mean
     * cos(organ, negative)) / temperature + bias), present when reportable and probability ≥ threshold.
     * A finding the model did not learn (validation AUC too low) is not reportable: its probability is
     * given, but it is never called present, so it cannot escalate a worklist on noise.
     */
    public record Finding(String id, String organ, CodedConcept code, Priority severity, List<String> positive,
                          List<String> negative, List<String> heldOutPositive, List<String> heldOutNegative,
                          double temperature, double bias, double threshold, boolean reportable) {
        public Finding {
            positive = List.copyOf(positive);
            negative = List.copyOf(negative);
            heldOutPositive = List.copyOf(heldOutPositive);
            heldOutNegative = List.copyOf(heldOutNegative);
            if (positive.isEmpty() || negative.isEmpty()) {
                throw new IllegalArgumentException("finding " + id + " needs positive and negative prompts");
            }
            if (!(temperature > 0) || !(threshold > 0 && threshold < 1) || !Double.isFinite(bias)) {
                throw new IllegalArgumentException("finding " + id + " is not calibrated (temperature > 0, bias, "
                        + "0 < threshold < 1 required)");
            }
        }
    }

    public AbnormalityDictionary {
        organs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(organs));
        findings = List.copyOf(findings);
    }

    /** Parses dictionary.json; IllegalArgumentException naming what is wrong. */
    public static AbnormalityDictionary fromJson(JsonNode root) {
        Map<String, Organ> organs = new LinkedHashMap<>();
        for (JsonNode o : root.path("organs")) {
            organs.put(o.path("id").asText(), new Organ(o.path("id").asText(), o.path("label").asInt(), code(o.path("code"))));
        }
        if (organs.isEmpty()) {
            throw new IllegalArgumentException("dictionary has no organs");
        }
        List<Finding> findings = new ArrayList<>();
        for (JsonNode f : root.path("findings")) {
            String id = f.path("id").asText();
            String organ = f.path("organ").asText();
            if (!organs.containsKey(organ)) {
                throw new IllegalArgumentException("finding " + id + " names unknown organ " + organ);
            }
            findings.add(new Finding(id, organ, code(f.path("code")),
                    Priority.fromFhirCode(f.path("severity").asText().toLowerCase(Locale.ROOT)),
                    strings(f.path("positive")), strings(f.path("negative")), strings(f.path("heldOutPositive")),
                    strings(f.path("heldOutNegative")), f.path("temperature").asDouble(Double.NaN),
                    f.path("bias").asDouble(Double.NaN), f.path("threshold").asDouble(Double.NaN),
                    f.path("reportable").asBoolean(true)));
        }
        return new AbnormalityDictionary(organs, findings);
    }

    private static CodedConcept code(JsonNode c) {
        if (c.isMissingNode() || c.path("value").asText().isEmpty()) {
            throw new IllegalArgumentException("code missing: " + c);
        }
        return new CodedConcept(c.path("scheme").asText(), c.path("value").asText(), c.path("meaning").asText());
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asText()));
        return out;
    }
}
