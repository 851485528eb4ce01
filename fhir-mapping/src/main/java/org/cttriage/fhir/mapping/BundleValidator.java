package org.cttriage.fhir.mapping;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.util.List;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Validates resources against the R4 core definitions, offline (hapi-fhir-validation-resources-r4).
 * Building it takes seconds; make one per process and share it (it is thread-safe).
 */
public final class BundleValidator {
    private final FhirValidator validator;

    public BundleValidator(FhirContext context) {
        ValidationSupportChain chain = new ValidationSupportChain(
                new DefaultProfileValidationSupport(context),
                new InMemoryTerminologyServerValidationSupport(context),
                new CommonCodeSystemsTerminologyService(context));
        validator = context.newValidator();
        validator.registerValidatorModule(new FhirInstanceValidator(chain));
    }

    /** Messages of severity error or fatal; empty means valid. */
    public List<SingleValidationMessage> errors(IBaseResource resource) {
        ValidationResult r = validator.validateWithResult(resource);
        return r.getMessages().stream()
                .filter(m -> m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL)
                .toList();
    }
}
