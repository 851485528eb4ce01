package org.cttriage.core.node;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A series as the node tracks it: Study Instance UID + Series Instance UID.
 *
 * @param studyInstanceUid Study Instance UID
 * @param seriesInstanceUid Series Instance UID
 */
public record SeriesKey(String studyInstanceUid, String seriesInstanceUid) {
    private static final Pattern UID = Pattern.compile("[0-9]+(\\.[0-9]+)*");

    public SeriesKey {
        Objects.requireNonNull(studyInstanceUid, "studyInstanceUid");
        Objects.requireNonNull(seriesInstanceUid, "seriesInstanceUid");
    }

    /** True for a syntactically valid UID (PS3.5 9.1): digits and dots, at most 64 characters. */
    public static boolean isUid(String value) {
        return value != null && value.length() <= 64 && UID.matcher(value).matches();
    }

    /** The aggregation correlation key, {@code study/series}. */
    public String key() {
        return studyInstanceUid + "/" + seriesInstanceUid;
    }

    /** Parses {@link #key()}. */
    public static SeriesKey parse(String key) {
        int slash = key.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not a series key: " + key);
        }
        return new SeriesKey(key.substring(0, slash), key.substring(slash + 1));
    }
}
