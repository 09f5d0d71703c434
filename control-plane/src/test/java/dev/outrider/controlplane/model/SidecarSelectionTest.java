package dev.outrider.controlplane.model;

import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.model.ServiceName;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.StoredResource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Sidecar documents to specs, egress hosts to services, and which Sidecar applies to a workload. */
class SidecarSelectionTest {
    private static final String ROOT = "outrider-system";

    @Test
    void aSidecarReadsAsIstioWritesIt() {
        SidecarSpec spec = spec("shop", "web", """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                spec:
                  workloadSelector: {serviceAccounts: [web, web-v2]}
                  egress:
                  - hosts: ["./*", "payments/*", "*/audit", "ledger/books"]
                """);
        assertThat(spec.serviceAccounts()).containsExactly("web", "web-v2");
        assertThat(spec.hasSelector()).isTrue();
        assertThat(spec.hosts()).extracting(SidecarSpec.Host::toString)
                .containsExactly("./*", "payments/*", "*/audit", "ledger/books");

        SidecarSpec everything = spec("shop", "default", "apiVersion: outrider.dev/v1\nkind: Sidecar\n");
        assertThat(everything.hasSelector()).isFalse();
        assertThat(everything.hosts()).as("no egress: every exported service").isNull();
    }

    @Test
    void hostsMatchServicesWithTheDotMeaningTheWorkloadsNamespace() {
        SidecarSpec.Host own = SidecarSpec.Host.parse("./*").resolve("shop");
        assertThat(own).isEqualTo(new SidecarSpec.Host("shop", "*"));
        assertThat(own.matches(new ServiceName("orders", "shop"))).isTrue();
        assertThat(own.matches(new ServiceName("orders", "billing"))).isFalse();

        SidecarSpec.Host audit = SidecarSpec.Host.parse("*/audit").resolve("shop");
        assertThat(audit.matches(new ServiceName("audit", "billing"))).isTrue();
        assertThat(audit.matches(new ServiceName("orders", "billing"))).isFalse();

        SidecarSpec.Host books = SidecarSpec.Host.parse("ledger/books");
        assertThat(books.resolve("shop")).isSameAs(books);
        assertThat(books.matches(new ServiceName("books", "ledger"))).isTrue();
        assertThat(books.matches(new ServiceName("books", "shop"))).isFalse();
        assertThat(SidecarSpec.Host.parse("*/*").matches(new ServiceName("x", "y"))).isTrue();
    }

    @Test
    void aSelectingSidecarWinsOverItsNamespacesWhichWinsOverTheRootDefault() {
        SidecarSpec rootDefault = spec(ROOT, "default", "kind: Sidecar\napiVersion: outrider.dev/v1\n"
                + "spec: {egress: [{hosts: [\"./*\"]}]}\n");
        SidecarSpec rootSelecting = spec(ROOT, "admin", "kind: Sidecar\napiVersion: outrider.dev/v1\n"
                + "spec: {workloadSelector: {serviceAccounts: [web]}, egress: [{hosts: [\"*/*\"]}]}\n");
        SidecarSpec shopDefault = spec("shop", "default", "kind: Sidecar\napiVersion: outrider.dev/v1\n"
                + "spec: {egress: [{hosts: [\"./*\", \"payments/*\"]}]}\n");
        SidecarSpec shopWeb = spec("shop", "web", "kind: Sidecar\napiVersion: outrider.dev/v1\n"
                + "spec: {workloadSelector: {serviceAccounts: [web]}, egress: [{hosts: [\"*/*\"]}]}\n");
        SidecarSelection selection = new SidecarSelection(List.of(rootDefault, rootSelecting, shopDefault, shopWeb), ROOT);

        assertThat(selection.applying("shop", "web")).contains(shopWeb);
        assertThat(selection.applying("shop", "orders")).contains(shopDefault);
        assertThat(selection.applying("billing", "web")).as("a selector applies in its own namespace only")
                .contains(rootDefault);
        assertThat(selection.applying(ROOT, "web")).contains(rootSelecting);
        assertThat(selection.applying(ROOT, "other")).contains(rootDefault);

        SidecarSelection noRootDefault = new SidecarSelection(List.of(rootSelecting, shopWeb), ROOT);
        assertThat(noRootDefault.applying("shop", "orders")).isEmpty();
        assertThat(noRootDefault.applying("billing", "web")).isEmpty();
        assertThat(new SidecarSelection(List.of(rootDefault), "mesh-root").applying("shop", "web"))
                .as("only the MeshConfig's root namespace gives the default").isEmpty();
    }

    @Test
    void whereTwoSidecarsCompeteTheFirstByNameApplies() {
        SidecarSpec b = spec("shop", "b", "kind: Sidecar\napiVersion: outrider.dev/v1\n"
                + "spec: {egress: [{hosts: [\"b/*\"]}]}\n");
        SidecarSpec a = spec("shop", "a", "kind: Sidecar\napiVersion: outrider.dev/v1\n"
                + "spec: {egress: [{hosts: [\"a/*\"]}]}\n");
        SidecarSpec webZ = spec("shop", "z", "kind: Sidecar\napiVersion: outrider.dev/v1\n"
                + "spec: {workloadSelector: {serviceAccounts: [web]}}\n");
        SidecarSpec webY = spec("shop", "y", "kind: Sidecar\napiVersion: outrider.dev/v1\n"
                + "spec: {workloadSelector: {serviceAccounts: [web, api]}}\n");
        SidecarSelection selection = new SidecarSelection(List.of(b, webZ, a, webY), ROOT);
        assertThat(selection.applying("shop", "orders")).contains(a);
        assertThat(selection.applying("shop", "web")).contains(webY);
        assertThat(new SidecarSelection(List.of(webZ, b), ROOT).applying("shop", "web")).contains(webZ);
    }

    @Test
    void aWriteThatWouldMakeTwoSidecarsCompeteIsRefusedNamingTheField() {
        List<StoredResource> stored = List.of(
                stored("shop", "default", "{egress: [{hosts: [\"./*\"]}]}"),
                stored("shop", "web", "{workloadSelector: {serviceAccounts: [web, api]}}"),
                stored("billing", "default", "{}"));

        ResourceValidationException second = refused(written("shop", "other", "{egress: [{hosts: [\"*/*\"]}]}"), stored);
        assertThat(second.field()).isEqualTo("spec.workloadSelector");
        assertThat(second.problem()).isEqualTo("absent, so this Sidecar would apply to every workload of namespace"
                + " 'shop', as Sidecar shop/default does already; give one of them a workloadSelector, or change"
                + " Sidecar shop/default instead");

        ResourceValidationException api = refused(written("shop", "api", "{workloadSelector: {serviceAccounts:"
                + " [admin, api]}}"), stored);
        assertThat(api.field()).isEqualTo("spec.workloadSelector.serviceAccounts[1]");
        assertThat(api.problem()).isEqualTo("'api' is already selected by Sidecar shop/web; a workload gets one"
                + " Sidecar, so name its service account in one of them only");

        // Replacing a Sidecar, other service accounts, another namespace, and a damaged stored one: no conflict.
        SidecarSelection.requireNoOverlap(written("shop", "default", "{egress: [{hosts: [\"*/*\"]}]}"), stored);
        SidecarSelection.requireNoOverlap(written("shop", "web", "{workloadSelector: {serviceAccounts: [web]}}"), stored);
        SidecarSelection.requireNoOverlap(written("shop", "admin", "{workloadSelector: {serviceAccounts: [admin]}}"),
                stored);
        SidecarSelection.requireNoOverlap(written("payments", "default", "{}"), stored);
        StoredResource damaged = new StoredResource(new ResourceKey("Sidecar", "ledger", "broken"), 7,
                "{\"spec\": {\"egress\": 3}}".getBytes(StandardCharsets.UTF_8));
        SidecarSelection.requireNoOverlap(written("ledger", "default", "{}"), List.of(damaged));
    }

    private static ResourceValidationException refused(ValidatedResource written, List<StoredResource> stored) {
        ResourceValidationException e = catchThrowableOfType(ResourceValidationException.class,
                () -> SidecarSelection.requireNoOverlap(written, stored));
        assertThat(e).as("refused").isNotNull();
        return e;
    }

    private static ValidatedResource written(String namespace, String name, String spec) {
        return ResourceDocuments.parse(ResourceKind.SIDECAR, namespace, name, ("apiVersion: outrider.dev/v1\n"
                + "kind: Sidecar\nspec: " + spec + "\n").getBytes(StandardCharsets.UTF_8), "application/yaml");
    }

    private static StoredResource stored(String namespace, String name, String spec) {
        ValidatedResource r = written(namespace, name, spec);
        return new StoredResource(r.key(), 3, r.json());
    }

    private static SidecarSpec spec(String namespace, String name, String yaml) {
        ValidatedResource r = ResourceDocuments.parse(ResourceKind.SIDECAR, namespace, name,
                yaml.getBytes(StandardCharsets.UTF_8), "application/yaml");
        return SidecarSpec.of(new StoredResource(r.key(), 1, r.json()));
    }
}
