package org.cttriage.fhir.delivery;

import ca.uhn.fhir.context.FhirContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.fhir.mapping.BundleValidator;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.cttriage.fhir.mapping.SampleResults;
import org.cttriage.fhir.mapping.TriageBundleMapper;
import org.hl7.fhir.r4.model.Bundle;

/** The triage result of the mapping tests, its bundle, and a clock that tests move by hand. */
final class Fixtures {
    /** The process's one FhirContext, as in production. */
    static final FhirContext CTX = FhirContext.forR4Cached();
    static final Instant T0 = Instant.parse("2026-04-14T09:10:00Z");
    static final String CORRELATION = "study=1.2.3.4 series=1.2.3.4.5";
    private static BundleValidator validator;

    private Fixtures() {
    }

    /** The mapping tests' result (their golden files are built from it too). */
    static TriageResult result() {
        return SampleResults.fourFindings();
    }

    /** The transaction bundle of {@link #result()}; the same every call. */
    static Bundle bundle() {
        return new TriageBundleMapper(FhirMappingOptions.defaults()).toTransaction(result(),
                new TriageBundleMapper.PatientIdentity("PHANTOM-7", "CTTRIAGE-PHANTOM"),
                Instant.parse("2026-04-14T09:00:00Z"), Instant.parse("2026-04-14T09:05:00Z"));
    }

    static String json(org.hl7.fhir.instance.model.api.IBaseResource r) {
        return CTX.newJsonParser().encodeResourceToString(r);
    }

    /** One validator for all tests of the JVM: building it takes seconds. */
    static synchronized BundleValidator validator() {
        if (validator == null) {
            validator = new BundleValidator(CTX);
        }
        return validator;
    }

    /** What a server answers to {@link #bundle()}: one "201 Created" (or {@code status}) entry per request. */
    static Bundle transactionResponse(String status) {
        Bundle request = bundle();
        Bundle response = new Bundle().setType(Bundle.BundleType.TRANSACTIONRESPONSE);
        int n = 1;
        for (Bundle.BundleEntryComponent e : request.getEntry()) {
            response.addEntry().getResponse().setStatus(status)
                    .setLocation(e.getResource().fhirType() + "/" + n++ + "/_history/1");
        }
        return response;
    }

    /** A clock that only moves when told. */
    static final class ManualClock extends Clock {
        private Instant now;

        ManualClock(Instant start) {
            now = start;
        }

        synchronized void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public synchronized Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
