package org.cttriage.testdata.junit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that runs real external peers (dcmtk, dicom3tools, Python…). The
 * class is tagged {@code interop}. When a tool is missing the tests are skipped on a
 * developer's machine but FAIL when {@code CI=true}: CI must never pass by not testing.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("interop")
@ExtendWith(ExternalToolExtension.class)
public @interface RequiresTools {
    /** Executables that must be on the PATH (or absolute paths that must exist). */
    String[] value();
}
