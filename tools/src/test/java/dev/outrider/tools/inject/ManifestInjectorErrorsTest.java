package dev.outrider.tools.inject;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Input that cannot be injected: each message names the source, the document, the field and the problem. */
class ManifestInjectorErrorsTest {
    private static final String SERVICE = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              ports:
              - port: 80
            """;

    private static String deployment(String podSpec) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                  namespace: shop
                spec:
                  template:
                    metadata:
                      labels:
                        app: web
                    spec:
                """ + podSpec.indent(6);
    }

    private static String problem(String text) {
        return assertThatThrownBy(() -> ManifestInjector.inject(text, "app.yaml", InjectOptions.defaults()))
                .isInstanceOf(InjectException.class).actual().getMessage();
    }

    @Test
    void aSyntaxErrorNamesTheDocumentAndTheLine() {
        String text = SERVICE + "---\n" + SERVICE + "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: indentation\n";
        assertThat(problem(text)).isEqualTo(
                "app.yaml: document 3: not YAML: mapping values are not allowed here (line 21, column 7)");
    }

    @Test
    void anUnclosedQuoteInTheFirstDocumentIsDocumentOne() {
        assertThat(problem("apiVersion: \"v1\nkind: Pod\n")).startsWith("app.yaml: document 1: not YAML: ")
                .contains("(line 3, column 1)");
    }

    @Test
    void aDuplicateKeyNamesThePath() {
        String text = SERVICE + "---\n" + deployment("""
                containers:
                - name: web
                  image: a
                  image: b
                """);
        assertThat(problem(text)).startsWith("app.yaml: document 2 (line 9): not YAML: spec.template.spec.containers[0]")
                .contains("Duplicate field 'image'").contains("(line 23)");
    }

    @Test
    void aliasesAreRefusedRatherThanReadAsTheirName() {
        String text = """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: a}
                data:
                  first: &shared hello
                  second: *shared
                """;
        assertThat(problem(text)).isEqualTo("app.yaml: document 1: data.second: YAML alias *shared (line 6, column 11)"
                + " is not supported; quote a value that starts with '*' (\"*shared\") or write the value out in full");
    }

    @Test
    void anExistingVolumeWithTheSidecarsNameIsAConflict() {
        String text = SERVICE + "---\n" + deployment("""
                containers:
                - name: web
                  image: example/web:1
                volumes:
                - name: cache
                  emptyDir: {}
                - name: outrider-data
                  emptyDir: {}
                """);
        assertThat(problem(text)).isEqualTo("app.yaml: document 2 (line 9), Deployment shop/web: already uses the "
                + "sidecar's names or ports: volume 'outrider-data' (spec.template.spec.volumes[1]) (rename them, or "
                + "opt out with outrider.dev/inject: \"false\")");
    }

    @Test
    void everyConflictIsListedAndEveryBadDocumentReported() {
        String conflicts = deployment("""
                containers:
                - name: web
                  image: example/web:1
                  ports:
                  - name: outrider-health
                    containerPort: 15021
                  volumeMounts:
                  - name: outrider-tmp
                    mountPath: /tmp
                """);
        String claim = """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata:
                  name: db
                spec:
                  template:
                    spec:
                      containers:
                      - name: db
                        image: example/db:1
                  volumeClaimTemplates:
                  - metadata:
                      name: outrider-token
                """;
        String message = problem(conflicts + "---\n" + claim);
        assertThat(message.lines()).containsExactly(
                "app.yaml: document 1 (line 1), Deployment shop/web: already uses the sidecar's names or ports: "
                        + "volume mount 'outrider-tmp' (spec.template.spec.containers[0].volumeMounts[0]); "
                        + "port name 'outrider-health' (spec.template.spec.containers[0].ports[0]); "
                        + "containerPort 15021 (spec.template.spec.containers[0].ports[0]) (rename them, or opt out "
                        + "with outrider.dev/inject: \"false\")",
                "app.yaml: document 2 (line 22), StatefulSet db: already uses the sidecar's names or ports: "
                        + "volume claim template 'outrider-token' (spec.volumeClaimTemplates[0]) (rename them, or opt "
                        + "out with outrider.dev/inject: \"false\")");
    }

    @Test
    void aContainerNamedLikeTheSidecarWithoutTheAnnotationIsAConflict() {
        String text = """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: p
                spec:
                  containers:
                  - name: app
                    image: a
                  - name: outrider-proxy
                    image: someone-elses/proxy
                """;
        assertThat(problem(text)).isEqualTo("app.yaml: document 1 (line 1), Pod p: container 'outrider-proxy' "
                + "(spec.containers[1]) is already there, but the pod has no outrider.dev/injected annotation: it was "
                + "not added by outrider inject; rename it");
    }

    @Test
    void anApplicationPortTheSidecarListensOnIsAConflict() {
        String text = deployment("""
                containers:
                - name: web
                  image: example/web:1
                  ports:
                  - containerPort: 15001
                """);
        assertThat(problem(text)).contains("containerPort 15001 (spec.template.spec.containers[0].ports[0])");
    }

    @Test
    void theOptOutAnnotationTakesOnlyTrueOrFalse() {
        String text = """
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: j
                  annotations:
                    outrider.dev/inject: "no"
                spec:
                  template:
                    spec:
                      containers:
                      - name: j
                        image: a
                """;
        assertThat(problem(text)).isEqualTo("app.yaml: document 1 (line 1), Job j: annotation outrider.dev/inject: "
                + "expected \"true\" or \"false\" (a quoted string), got \"no\"");
        assertThat(problem(text.replace("\"no\"", "false"))).endsWith("got false");
    }

    @Test
    void malformedPodTemplatesNameTheField() {
        assertThat(problem("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 1\n"))
                .isEqualTo("app.yaml: document 1 (line 1), Deployment d: spec.template: is required");
        assertThat(problem("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  jobTemplate:\n"
                + "    spec:\n      template: []\n"))
                .isEqualTo("app.yaml: document 1 (line 1), CronJob c: spec.jobTemplate.spec.template: must be a mapping");
        assertThat(problem(deployment("containers: []\n")))
                .endsWith("spec.template.spec.containers: is required (a non-empty list)");
        assertThat(problem(deployment("containers:\n- name: web\n  image: a\nvolumes: {}\n")))
                .endsWith("spec.template.spec.volumes: must be a list");
        assertThat(problem(deployment("containers:\n- web\n")))
                .endsWith("spec.template.spec.containers[0]: must be a mapping");
        assertThat(problem(deployment("containers:\n- name: web\n  image: a\n  ports:\n  - containerPort: http\n")))
                .endsWith("spec.template.spec.containers[0].ports[0].containerPort: expected a port number (1 to "
                        + "65535), got \"http\"");
    }

    @Test
    void aPodWithoutNameOrLabelsNeedsTheServiceFlag() {
        String text = "apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: worker-\nspec:\n  containers:\n"
                + "  - name: w\n    image: a\n";
        assertThat(problem(text)).isEqualTo("app.yaml: document 1 (line 1), Pod: no service name: the pod has no label "
                + "app.kubernetes.io/name or app and the Pod no metadata.name; use --service");
        InjectOptions withService = new InjectOptions(InjectOptions.DEFAULT_IMAGE, InjectOptions.DEFAULT_CONTROL_PLANE,
                InjectOptions.DEFAULT_TRUST_DOMAIN, "worker", null, false, SidecarResources.DEFAULT);
        assertThat(ManifestInjector.inject(text, "app.yaml", withService).injected()).isOne();
    }

    @Test
    void nothingIsWrittenWhenOneDocumentFails() {
        String good = deployment("containers:\n- name: web\n  image: a\n");
        String bad = deployment("containers:\n- name: web\n  image: a\nvolumes:\n- name: outrider-mesh\n");
        assertThatThrownBy(() -> ManifestInjector.inject(good + "---\n" + bad, "app.yaml", InjectOptions.defaults()))
                .isInstanceOf(InjectException.class)
                .satisfies(e -> assertThat(((InjectException) e).problems()).hasSize(1));
    }
}
