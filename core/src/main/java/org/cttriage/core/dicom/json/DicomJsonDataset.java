package org.cttriage.core.dicom.json;

import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomDictionary;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A data set in the DICOM JSON Model (PS3.18 Annex F.2), built by attribute keyword: each attribute's tag (eight upper
 * case hex digits, the object's key) and VR come from the standard data dictionary, never from literals in the
 * caller. Attributes are kept in tag order. An attribute without value is written as {@code {"vr": …}} with no
 * {@code "Value"} (F.2.5), which is how a Type 2 attribute is sent empty.
 *
 * <p>Only what DICOMweb user agents of this node write is supported: text and UID values (the string VRs), Person
 * Name by its Alphabetic component group, and sequences; a keyword of another VR is refused.
 */
public final class DicomJsonDataset {
    /** VRs whose values are JSON strings (PS3.18 F.2.3). */
    private static final Set<String> STRING_VRS = Set.of("AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM",
            "UC", "UI", "UR", "UT");

    private final TreeMap<String, Map<String, Object>> attributes = new TreeMap<>();

    /** {@code keyword} with {@code values} (none: present without a value). */
    public DicomJsonDataset put(String keyword, String... values) {
        String vr = vr(keyword);
        if (!STRING_VRS.contains(vr)) {
            throw new IllegalArgumentException(keyword + " has VR " + vr + ", not a string VR");
        }
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("vr", vr);
        List<String> v = new ArrayList<>();
        for (String s : values) {
            if (s != null && !s.isEmpty()) {
                v.add(s);
            }
        }
        if (!v.isEmpty()) {
            a.put("Value", v);
        }
        attributes.put(tag(keyword), a);
        return this;
    }

    /** A Person Name, {@code alphabetic} in its Alphabetic component group ("": present without a value). */
    public DicomJsonDataset putPersonName(String keyword, String alphabetic) {
        String vr = vr(keyword);
        if (!vr.equals("PN")) {
            throw new IllegalArgumentException(keyword + " has VR " + vr + ", not PN");
        }
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("vr", vr);
        if (alphabetic != null && !alphabetic.isEmpty()) {
            a.put("Value", List.of(Map.of("Alphabetic", alphabetic)));
        }
        attributes.put(tag(keyword), a);
        return this;
    }

    /** A sequence of {@code items} (none: present and empty). */
    public DicomJsonDataset putSequence(String keyword, List<DicomJsonDataset> items) {
        String vr = vr(keyword);
        if (!vr.equals("SQ")) {
            throw new IllegalArgumentException(keyword + " has VR " + vr + ", not SQ");
        }
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("vr", vr);
        if (!items.isEmpty()) {
            a.put("Value", items.stream().map(DicomJsonDataset::toJson).toList());
        }
        attributes.put(tag(keyword), a);
        return this;
    }

    /** A sequence of one item. */
    public DicomJsonDataset putSequence(String keyword, DicomJsonDataset item) {
        return putSequence(keyword, List.of(item));
    }

    /** The data set as the JSON object PS3.18 F.2 defines (ready for Jackson): tag → {vr, Value}. */
    public Map<String, Object> toJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        attributes.forEach(out::put);
        return Collections.unmodifiableMap(out);
    }

    /** The tag of {@code keyword} as the DICOM JSON Model writes it: eight upper case hex digits, e.g. "00741200". */
    public static String tag(String keyword) {
        AttributeTag t = dictionaryTag(keyword);
        return String.format(Locale.ROOT, "%04X%04X", t.getGroup(), t.getElement());
    }

    /** The VR of {@code keyword} in the standard data dictionary. */
    public static String vr(String keyword) {
        return new String(DicomDictionary.StandardDictionary.getValueRepresentationFromTag(dictionaryTag(keyword)),
                java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static AttributeTag dictionaryTag(String keyword) {
        AttributeTag t = DicomDictionary.StandardDictionary.getTagFromName(keyword);
        if (t == null) {
            throw new IllegalArgumentException("no attribute " + keyword + " in the DICOM data dictionary");
        }
        return t;
    }

    /**
     * The first value of {@code keyword} in a parsed DICOM JSON object (as Jackson reads it into maps and lists), when
     * it is a string; empty when absent, valueless or not a string.
     */
    public static Optional<String> firstString(Map<?, ?> dataset, String keyword) {
        if (!(dataset.get(tag(keyword)) instanceof Map<?, ?> a) || !(a.get("Value") instanceof List<?> v) || v.isEmpty()
                || !(v.get(0) instanceof String s)) {
            return Optional.empty();
        }
        return Optional.of(s);
    }

    /** The items of sequence {@code keyword} in a parsed DICOM JSON object; empty when absent or empty. */
    public static List<Map<?, ?>> items(Map<?, ?> dataset, String keyword) {
        if (!(dataset.get(tag(keyword)) instanceof Map<?, ?> a) || !(a.get("Value") instanceof List<?> v)) {
            return List.of();
        }
        List<Map<?, ?>> out = new ArrayList<>();
        for (Object o : v) {
            if (o instanceof Map<?, ?> m) {
                out.add(m);
            }
        }
        return out;
    }
}
