package org.cttriage.testdata.audit;

import com.thaiopensource.util.PropertyMapBuilder;
import com.thaiopensource.validate.ValidateProperty;
import com.thaiopensource.validate.ValidationDriver;
import com.thaiopensource.validate.rng.CompactSchemaReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * Validates audit messages against the DICOM Audit Message Schema of PS3.15 A.5.1.1, the RELAX NG
 * Compact text the standard publishes (resource {@code dicom-audit-message.rnc}, copied verbatim
 * from PS3.15 2023b), with Jing.
 *
 * <p>One mechanical step before parsing: the published text places {@code ##} documentation
 * comments where RELAX NG Compact allows no annotation (after the last value of a choice, just
 * before its closing brace), which Jing rejects as a syntax error; they are read as ordinary
 * {@code #} comments. That changes no pattern: every element, attribute, value list and datatype is
 * the standard's.
 */
public final class AuditSchema {
    private static final String RESOURCE = "dicom-audit-message.rnc";
    private static final String SCHEMA = load();

    private AuditSchema() {
    }

    private static String load() {
        try (InputStream in = AuditSchema.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from test-support");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("##", "#");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The schema's complaints about {@code xml} (one audit message, UTF-8); empty when it is valid. */
    public static List<String> errors(byte[] xml) {
        List<String> errors = new ArrayList<>();
        ErrorHandler handler = new ErrorHandler() {
            @Override
            public void warning(SAXParseException e) {
                // warnings are not violations of the schema
            }

            @Override
            public void error(SAXParseException e) {
                errors.add("line " + e.getLineNumber() + ", column " + e.getColumnNumber() + ": " + e.getMessage());
            }

            @Override
            public void fatalError(SAXParseException e) {
                error(e);
            }
        };
        PropertyMapBuilder properties = new PropertyMapBuilder();
        ValidateProperty.ERROR_HANDLER.put(properties, handler);
        // One driver per call: a ValidationDriver is not safe to share between threads.
        ValidationDriver driver = new ValidationDriver(properties.toPropertyMap(), CompactSchemaReader.getInstance());
        try {
            InputSource schema = new InputSource(new StringReader(SCHEMA));
            schema.setSystemId("urn:dicom:ps3.15:a.5.1.1");
            if (!driver.loadSchema(schema)) {
                throw new IllegalStateException("the audit message schema does not load: " + errors);
            }
            if (!driver.validate(new InputSource(new ByteArrayInputStream(xml))) && errors.isEmpty()) {
                errors.add("invalid (no detail from the validator)");
            }
        } catch (SAXException | IOException e) {
            errors.add(e.toString());
        }
        return errors;
    }

    /** Throws an {@link AssertionError} listing the violations unless {@code xml} is valid. */
    public static void assertValid(byte[] xml) {
        List<String> errors = errors(xml);
        if (!errors.isEmpty()) {
            throw new AssertionError("audit message does not validate against PS3.15 A.5.1: " + errors + "\n"
                    + new String(xml, StandardCharsets.UTF_8));
        }
    }
}
