package org.cttriage.plugin;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.nameMatching;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.sql.Connection;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shape DESIGN.md draws, held on the shipped classes of every module (the plugin's class
 * path has them all): PixelMed is used only behind {@code org.cttriage.core.dicom} (and by the
 * phantom generator in test-data, which writes DICOM byte by byte as test infrastructure);
 * core knows nothing of Camel or HAPI; module dependencies point one way,
 * core ← fhir-mapping ← camel-routes ← plugin and core ← hl7 ← plugin; SQL runs only in the node's repositories.
 */
class ArchitectureTest {
    private static JavaClasses shipped;

    @BeforeAll
    static void importClasses() {
        shipped = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                // The other modules' test-jars (core's scripted peer, fhir-mapping's FHIR server) are tests too.
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("org.cttriage");
    }

    @Test
    void pixelMedOnlyBehindCoreDicom() {
        noClasses().that().resideInAPackage("org.cttriage..")
                .and().resideOutsideOfPackages("org.cttriage.core.dicom..", "org.cttriage.testdata..")
                .should().dependOnClassesThat().resideInAPackage("com.pixelmed..")
                .because("the rest of the code speaks the project's own types (DESIGN.md, Key decisions)")
                .check(shipped);
    }

    @Test
    void coreHasNoCamelNorHapi() {
        noClasses().that().resideInAPackage("org.cttriage.core..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.camel..", "ca.uhn..", "org.hl7.fhir..")
                .check(shipped);
    }

    @Test
    void modulesDependOneWay() {
        noClasses().that().resideInAPackage("org.cttriage.core..")
                .should().dependOnClassesThat().resideInAnyPackage("org.cttriage.fhir..", "org.cttriage.hl7..",
                        "org.cttriage.ups..", "org.cttriage.routes..", "org.cttriage.plugin..")
                .check(shipped);
        // ups sits beside hl7: core ← ups ← plugin.
        noClasses().that().resideInAPackage("org.cttriage.ups..")
                .should().dependOnClassesThat().resideInAnyPackage("org.cttriage.fhir..", "org.cttriage.hl7..",
                        "org.cttriage.routes..", "org.cttriage.plugin..")
                .check(shipped);
        noClasses().that().resideInAPackage("org.cttriage.fhir..")
                .should().dependOnClassesThat().resideInAnyPackage("org.cttriage.hl7..", "org.cttriage.routes..",
                        "org.cttriage.plugin..")
                .check(shipped);
        // hl7 sits beside fhir-mapping: core ← hl7 ← plugin.
        noClasses().that().resideInAPackage("org.cttriage.hl7..")
                .should().dependOnClassesThat().resideInAnyPackage("org.cttriage.fhir..", "org.cttriage.routes..",
                        "org.cttriage.plugin..")
                .check(shipped);
        noClasses().that().resideInAPackage("org.cttriage.routes..")
                .should().dependOnClassesThat().resideInAPackage("org.cttriage.plugin..")
                .check(shipped);
    }

    @Test
    void shippedCodeUsesNoTestHarness() {
        noClasses().that().resideInAPackage("org.cttriage..")
                .and().resideOutsideOfPackages("org.cttriage.testdata.junit..", "org.cttriage.testdata.orthanc..")
                .should().dependOnClassesThat().resideInAnyPackage("org.cttriage.testdata.junit..",
                        "org.cttriage.testdata.orthanc..", "org.junit..")
                .check(shipped);
    }

    @Test
    void onlyTheNodesRepositoriesRunSql() {
        // Nested and synthetic classes ($…) of the repositories count as theirs.
        noClasses().that().resideInAPackage("org.cttriage..")
                .and().haveNameNotMatching(
                        "org\\.cttriage\\.core\\.node\\.(\\w+Repository|DeliveryLedger|Outbox|Leadership|NodeDatabase)(\\$.*)?")
                .should().callMethodWhere(target(owner(assignableTo(Connection.class)))
                        .and(target(nameMatching("prepareStatement|prepareCall|createStatement"))))
                .because("each table's SQL lives in its repository (SeriesRepository, InstanceRepository,"
                        + " ResultRepository, DeliveryLedger, ClusterRepository, Outbox for node_outbox; NodeDatabase"
                        + " runs the schema, Leadership its advisory lock, which is no table); services call them")
                .check(shipped);
    }
}
