package org.cttriage.core.audit;

import java.util.Objects;

/**
 * A coded value of the audit schema ({@code CodedValueType}, PS3.15 A.5.1.1): code, coding scheme
 * and meaning, written as {@code csd-code}, {@code codeSystemName} and {@code originalText}.
 *
 * @param code the code value ({@code csd-code})
 * @param scheme the coding scheme designator ({@code codeSystemName}), e.g. {@code DCM}
 * @param meaning the code meaning ({@code originalText})
 */
public record CodedValue(String code, String scheme, String meaning) {
    public CodedValue {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(meaning, "meaning");
    }

    /** A code of the DICOM Controlled Terminology (PS3.16 Annex D), scheme {@code DCM}. */
    public static CodedValue dcm(String code, String meaning) {
        return new CodedValue(code, "DCM", meaning);
    }
}
