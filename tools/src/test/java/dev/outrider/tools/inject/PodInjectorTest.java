package dev.outrider.tools.inject;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Decisions and placement for one pod template, and the warnings a run gives. */
class PodInjectorTest {
    private static final InjectOptions DEFAULTS = GoldenCases.DEFAULTS;
    private static final InjectOptions LEGACY = GoldenCases.LEGACY;

    private static JsonNode read(String yaml) {
        return ManifestText.read(yaml, "t").get(0).node();
    }

    private static List<String> keys(JsonNode node) {
        List<String> keys = new ArrayList<>();
        node.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    private static List<String> names(JsonNode containers) {
        List<String> names = new ArrayList<>();
        containers.forEach(c -> names.add(c.path("name").asText()));
        return names;
    }

    @Test
    void newFieldsGoWhereKubectlUsersLookAndOldOnesKeepTheirOrder() {
        JsonNode pod = read("""
                apiVersion: v1
                kind: Pod
                spec:
                  restartPolicy: Always
                  containers:
                  - name: app
                    image: a
                  dnsPolicy: ClusterFirst
                metadata:
                  name: p
                """);
        PodInjector.Outcome o = PodInjector.inject(pod, DEFAULTS);
        assertThat(o.status()).isEqualTo(PodInjector.Status.INJECTED);
        assertThat(keys(o.document())).containsExactly("apiVersion", "kind", "spec", "metadata");
        assertThat(keys(o.document().path("spec")))
                .containsExactly("restartPolicy", "initContainers", "containers", "dnsPolicy", "volumes");
        assertThat(keys(o.document().path("metadata"))).containsExactly("name", "annotations");
        assertThat(pod.path("spec").has("initContainers")).as("the input is not changed").isFalse();
    }

    @Test
    void aTemplateWithoutMetadataGetsItBeforeItsSpec() {
        JsonNode job = read("""
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: j
                spec:
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                      - name: j
                        image: a
                """);
        JsonNode template = PodInjector.inject(job, DEFAULTS).document().path("spec").path("template");
        assertThat(keys(template)).containsExactly("metadata", "spec");
        assertThat(template.path("metadata").toString()).isEqualTo("{\"annotations\":{\"outrider.dev/injected\":\"0.1.0\"}}");
    }

    @Test
    void nullMetadataAndAnnotationsAreReplacedInPlace() {
        JsonNode pod = read("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n  labels: {app: x}\n"
                + "spec:\n  volumes:\n  containers: [{name: app, image: a}]\n");
        JsonNode out = PodInjector.inject(pod, DEFAULTS).document();
        assertThat(keys(out.path("metadata"))).containsExactly("name", "annotations", "labels");
        assertThat(keys(out.path("spec"))).containsExactly("volumes", "initContainers", "containers");
        assertThat(out.path("spec").path("volumes").size()).isEqualTo(4);
    }

    @Test
    void theNativeSidecarGoesBeforeTheOtherInitContainers() {
        JsonNode d = read("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  template:
                    spec:
                      initContainers:
                      - {name: first, image: a}
                      - {name: other-sidecar, image: b, restartPolicy: Always}
                      containers:
                      - {name: app, image: c}
                """);
        JsonNode init = PodInjector.inject(d, DEFAULTS).document().path("spec").path("template").path("spec")
                .path("initContainers");
        assertThat(names(init)).containsExactly("outrider-proxy", "first", "other-sidecar");
    }

    @Test
    void legacyModeNamesTheApplicationAsDefaultContainerAndWarnsAboutBatchPods() {
        JsonNode job = read("""
                apiVersion: batch/v1
                kind: Job
                metadata: {name: j}
                spec:
                  template:
                    spec:
                      restartPolicy: OnFailure
                      containers:
                      - {name: work, image: a}
                """);
        PodInjector.Outcome o = PodInjector.inject(job, LEGACY);
        JsonNode template = o.document().path("spec").path("template");
        assertThat(template.path("metadata").path("annotations").path("kubectl.kubernetes.io/default-container").asText())
                .isEqualTo("work");
        assertThat(names(template.path("spec").path("containers"))).containsExactly("outrider-proxy", "work");
        assertThat(template.path("spec").has("initContainers")).isFalse();
        assertThat(o.warnings()).containsExactly("with --legacy-sidecar, a pod with restartPolicy OnFailure does not "
                + "complete on its own: the sidecar keeps running after the application exits");
        assertThat(PodInjector.inject(job, DEFAULTS).warnings()).isEmpty();
    }

    @Test
    void hostNetworkPodsAreLeftAsTheyAreWithAWarning() {
        JsonNode pod = read("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n"
                + "  containers: [{name: app, image: a}]\n");
        PodInjector.Outcome o = PodInjector.inject(pod, DEFAULTS);
        assertThat(o.status()).isEqualTo(PodInjector.Status.HOST_NETWORK);
        assertThat(o.document()).isSameAs(pod);
        assertThat(o.warnings()).singleElement().asString().startsWith("not injected: spec.hostNetwork is true;");
    }

    @Test
    void theRunWarnsNamingTheDocument() {
        String text = GoldenCases.resource("passthrough.input.yaml");
        ManifestInjector.Result r = ManifestInjector.inject(text, "p.yaml", DEFAULTS);
        assertThat(r.injected()).isZero();
        assertThat(r.warnings()).containsExactly(
                "p.yaml: document 1 (line 2), DaemonSet kube-system/node-agent: not injected: "
                        + "spec.template.spec.hostNetwork is true; the sidecar would listen on the node's ports 15006 and "
                        + "15021 and its traffic would not be the pod's",
                "p.yaml: document 2 (line 22), Deployment ancient: Deployment extensions/v1beta1 passed through, not "
                        + "injected (outrider inject reads Deployment apps/v1)",
                "p.yaml: document 3 (line 34), List: kind List passed through, not injected (its items are not read; "
                        + "give the items as documents separated by ---)");
        ManifestInjector.Result legacy = ManifestInjector.inject(GoldenCases.resource("legacy.input.yaml"), "l.yaml",
                LEGACY);
        assertThat(legacy.injected()).isEqualTo(2);
        assertThat(legacy.warnings()).containsExactly("l.yaml: document 2 (line 22), Job shop/settle: with "
                + "--legacy-sidecar, a pod with restartPolicy Never does not complete on its own: the sidecar keeps "
                + "running after the application exits");
    }

    @Test
    void aManifestWithoutWorkloadsSaysSo() {
        ManifestInjector.Result r = ManifestInjector.inject("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
                "s.yaml", DEFAULTS);
        assertThat(r.yaml()).isEqualTo("apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n");
        assertThat(r.warnings()).containsExactly("s.yaml: no Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, "
                + "CronJob or Pod to inject; the documents are passed through");
        assertThat(ManifestInjector.inject("", "empty", DEFAULTS).warnings()).isEmpty();
    }

    @Test
    void optedOutAndAlreadyInjectedPodsAreReturnedAsGiven() {
        JsonNode optedOut = read("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
                + "    outrider.dev/inject: \"false\"\nspec:\n  containers: [{name: app, image: a}]\n");
        assertThat(PodInjector.inject(optedOut, DEFAULTS).status()).isEqualTo(PodInjector.Status.OPTED_OUT);
        JsonNode once = PodInjector.inject(read("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
                + "  containers: [{name: app, image: a}]\n"), DEFAULTS).document();
        PodInjector.Outcome twice = PodInjector.inject(once, LEGACY);
        assertThat(twice.status()).isEqualTo(PodInjector.Status.ALREADY_INJECTED);
        assertThat(twice.document()).isSameAs(once);
    }
}
