package dev.outrider.e2e;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The layout rules of docs/architecture.md ("Modules and what each may import"), checked on the compiled main
 * classes of every module (this module's test class path holds them all; test classes are left out). A rule
 * that breaks names the classes and the import that break it.
 */
class LayoutRulesTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            // The modules' test-jars (the proxy's and the control plane's test harnesses) are on this class path too.
            .withImportOption(location -> !location.contains("-tests.jar"))
            .importPackages("dev.outrider");

    @Test
    void everyModuleIsOnTheClassPath() {
        // The rules below would pass on an empty set: make sure each module's classes were read.
        for (String root : new String[] {"dev.outrider.core", "dev.outrider.proxy", "dev.outrider.controlplane",
                "dev.outrider.tools"}) {
            assertThat(MAIN.stream().anyMatch(c -> c.getPackageName().startsWith(root)))
                    .as("classes of %s on the class path", root).isTrue();
        }
    }

    /**
     * No two packages of one module import each other, directly or around a longer loop; the module's root
     * package (its composition root) counts as one of its packages.
     */
    @ParameterizedTest
    @ValueSource(strings = {"core", "proxy", "controlplane", "tools"})
    void noPackageCycleInAModule(String module) {
        String root = "dev.outrider." + module;
        slices().assignedFrom(new SliceAssignment() {
            @Override
            public SliceIdentifier getIdentifierOf(JavaClass c) {
                String p = c.getPackageName();
                return p.equals(root) || p.startsWith(root + ".") ? SliceIdentifier.of(p) : SliceIdentifier.ignore();
            }

            @Override
            public String getDescription() {
                return "the packages of " + root;
            }
        }).should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void theKernelImportsNoOtherModule() {
        noClasses().that().resideInAPackage("dev.outrider.core..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.outrider.proxy..",
                        "dev.outrider.controlplane..", "dev.outrider.tools..")
                .check(MAIN);
    }

    @Test
    void theSidecarImportsNeitherTheControlPlaneNorTheTools() {
        noClasses().that().resideInAPackage("dev.outrider.proxy..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.outrider.controlplane..",
                        "dev.outrider.tools..")
                .check(MAIN);
    }

    @Test
    void theControlPlaneImportsNeitherTheSidecarNorTheTools() {
        noClasses().that().resideInAPackage("dev.outrider.controlplane..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.outrider.proxy..", "dev.outrider.tools..")
                .check(MAIN);
    }

    /** The sidecar and the kernel build no command tree: picocli is the tools' (and the control plane's CLI's). */
    @Test
    void picocliStaysOutOfTheSidecarAndTheKernel() {
        noClasses().that().resideInAnyPackage("dev.outrider.proxy..", "dev.outrider.core..")
                .should().dependOnClassesThat().resideInAPackage("picocli..")
                .check(MAIN);
    }

    @Test
    void inboundAndOutboundNeverImportEachOther() {
        rule("dev.outrider.proxy.inbound..", "dev.outrider.proxy.outbound..").check(MAIN);
        rule("dev.outrider.proxy.outbound..", "dev.outrider.proxy.inbound..").check(MAIN);
    }

    /** Config records are the sidecar's ground floor: parsed and frozen first, they import no other package of it. */
    @Test
    void sidecarConfigImportsNothingAboveIt() {
        noClasses().that().resideInAPackage("dev.outrider.proxy.config..")
                .should().dependOnClassesThat(resideInAPackage("dev.outrider.proxy..")
                        .and(resideOutsideOfPackage("dev.outrider.proxy.config..")))
                .check(MAIN);
    }

    private static ArchRule rule(String from, String to) {
        return noClasses().that().resideInAPackage(from).should().dependOnClassesThat().resideInAPackage(to);
    }
}
