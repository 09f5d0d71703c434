package dev.outrider.tools.inject;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sidecar in every injected pod of every golden file, read back from the output text and checked field by field
 * against the contract (docs/kubernetes.md): placement, security context, probes, environment, resources, mounts,
 * volumes, annotation. Every workload kind is covered.
 */
class InjectedPodStructureTest {
    /** Injected documents of all golden cases: (case, document). */
    private static List<Map.Entry<GoldenCases.Case, JsonNode>> injectedDocuments() {
        List<Map.Entry<GoldenCases.Case, JsonNode>> all = new ArrayList<>();
        for (GoldenCases.Case c : GoldenCases.ALL) {
            String out = ManifestInjector.inject(c.input(), c.name(), c.options()).yaml();
            for (ManifestText.Document d : ManifestText.read(out, c.name())) {
                if (PodTemplate.locate(d.node()) instanceof PodTemplate.Workload && Injected.sidecar(d.node()) != null) {
                    all.add(Map.entry(c, d.node()));
                }
            }
        }
        return all;
    }

    @Test
    void everyWorkloadKindIsInjectedInBothModes() {
        Set<String> native_ = new TreeSet<>();
        Set<String> legacy = new TreeSet<>();
        for (var e : injectedDocuments()) {
            (e.getKey().options().legacySidecar() ? legacy : native_).add(e.getValue().path("kind").asText());
        }
        assertThat(native_).containsExactly("CronJob", "DaemonSet", "Deployment", "Job", "Pod", "ReplicaSet",
                "StatefulSet");
        assertThat(legacy).containsExactly("Deployment", "Job");
    }

    @Test
    void theSidecarIsWhereTheModeSaysAndOnlyThere() {
        for (var e : injectedDocuments()) {
            JsonNode spec = Injected.pod(e.getValue()).path("spec");
            String where = e.getKey() + " " + e.getValue().path("kind").asText();
            int inInit = count(spec.path("initContainers"));
            int inContainers = count(spec.path("containers"));
            if (e.getKey().options().legacySidecar()) {
                assertThat(spec.path("containers").get(0).path("name").asText()).as(where).isEqualTo("outrider-proxy");
                assertThat(spec.path("containers").get(0).has("restartPolicy")).as(where).isFalse();
                assertThat(inInit + inContainers).as(where).isEqualTo(1);
                assertThat(spec.path("containers").size()).as(where).isGreaterThan(1);
            } else {
                assertThat(spec.path("initContainers").get(0).path("name").asText()).as(where).isEqualTo("outrider-proxy");
                assertThat(spec.path("initContainers").get(0).path("restartPolicy").asText()).as(where)
                        .isEqualTo("Always");
                assertThat(inInit + inContainers).as(where).isEqualTo(1);
                assertThat(spec.path("containers").size()).as(where).isPositive();
            }
        }
    }

    @Test
    void securityContextIsTheContractsExactly() {
        for (var e : injectedDocuments()) {
            JsonNode sc = Injected.sidecar(e.getValue()).path("securityContext");
            assertThat(sc.toString()).as(e.getKey().name()).isEqualTo("{\"runAsNonRoot\":true,\"runAsUser\":65532,"
                    + "\"runAsGroup\":65532,\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false,"
                    + "\"capabilities\":{\"drop\":[\"ALL\"]},\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}");
            assertThat(sc.path("runAsUser").isInt()).isTrue(); // a number, not "65532"
        }
    }

    @Test
    void probesCheckTheHealthPort() {
        for (var e : injectedDocuments()) {
            JsonNode c = Injected.sidecar(e.getValue());
            String where = e.getKey().name();
            assertThat(c.path("startupProbe").toString()).as(where)
                    .isEqualTo("{\"httpGet\":{\"path\":\"/ready\",\"port\":15021},\"periodSeconds\":1,\"failureThreshold\":120}");
            assertThat(c.path("readinessProbe").path("httpGet").toString()).as(where)
                    .isEqualTo("{\"path\":\"/ready\",\"port\":15021}");
            assertThat(c.path("livenessProbe").path("httpGet").toString()).as(where)
                    .isEqualTo("{\"path\":\"/live\",\"port\":15021}");
            assertThat(c.path("ports").toString()).as(where).isEqualTo(
                    "[{\"name\":\"outrider-in\",\"containerPort\":15006,\"protocol\":\"TCP\"},"
                            + "{\"name\":\"outrider-health\",\"containerPort\":15021,\"protocol\":\"TCP\"}]");
        }
    }

    @Test
    void environmentHasTheContractsVariablesWithFieldRefs() {
        for (var e : injectedDocuments()) {
            JsonNode c = Injected.sidecar(e.getValue());
            Map<String, JsonNode> env = new HashMap<>();
            List<String> names = new ArrayList<>();
            c.path("env").forEach(v -> {
                env.put(v.path("name").asText(), v);
                names.add(v.path("name").asText());
            });
            String where = e.getKey().name() + " " + e.getValue().path("metadata").path("name").asText();
            assertThat(names).as(where).containsExactly("OUTRIDER_SERVICE", "OUTRIDER_NAMESPACE",
                    "OUTRIDER_SERVICE_ACCOUNT", "OUTRIDER_POD_NAME", "OUTRIDER_POD_IP", "OUTRIDER_CONTROL_PLANE",
                    "OUTRIDER_APP_PORT", "OUTRIDER_TRUST_DOMAIN");
            assertThat(fieldRef(env, "OUTRIDER_NAMESPACE")).as(where).isEqualTo("metadata.namespace");
            assertThat(fieldRef(env, "OUTRIDER_SERVICE_ACCOUNT")).as(where).isEqualTo("spec.serviceAccountName");
            assertThat(fieldRef(env, "OUTRIDER_POD_NAME")).as(where).isEqualTo("metadata.name");
            assertThat(fieldRef(env, "OUTRIDER_POD_IP")).as(where).isEqualTo("status.podIP");
            for (String literal : List.of("OUTRIDER_SERVICE", "OUTRIDER_CONTROL_PLANE", "OUTRIDER_APP_PORT",
                    "OUTRIDER_TRUST_DOMAIN")) {
                assertThat(env.get(literal).path("value").isTextual()).as(where + " " + literal).isTrue();
                assertThat(env.get(literal).path("value").asText()).as(where + " " + literal).isNotEmpty();
            }
            InjectOptions o = e.getKey().options();
            assertThat(env.get("OUTRIDER_CONTROL_PLANE").path("value").asText()).isEqualTo(o.controlPlane());
            assertThat(env.get("OUTRIDER_TRUST_DOMAIN").path("value").asText()).isEqualTo(o.trustDomain());
            if (o.service() != null) {
                assertThat(env.get("OUTRIDER_SERVICE").path("value").asText()).isEqualTo(o.service());
            }
        }
    }

    @Test
    void serviceAndAppPortFollowTheirFallbacks() {
        Map<String, String> services = new HashMap<>();
        Map<String, String> ports = new HashMap<>();
        for (var e : injectedDocuments()) {
            Map<String, String> env = new HashMap<>();
            Injected.sidecar(e.getValue()).path("env").forEach(v -> env.put(v.path("name").asText(),
                    v.path("value").asText()));
            String key = e.getValue().path("kind").asText() + "/" + e.getValue().path("metadata").path("name").asText();
            services.put(key, env.get("OUTRIDER_SERVICE"));
            ports.put(key, env.get("OUTRIDER_APP_PORT"));
        }
        assertThat(services).containsEntry("Deployment/orders", "orders") // app.kubernetes.io/name before app
                .containsEntry("StatefulSet/ledger", "ledger")             // label app
                .containsEntry("DaemonSet/log-shipper", "log-shipper")     // no app label: the workload's name
                .containsEntry("Job/nightly-report", "nightly-report")     // no labels at all
                .containsEntry("Pod/debug-client", "debug-client")
                .containsEntry("Deployment/search", "search-api");         // --service
        assertThat(ports).containsEntry("Deployment/orders", "9090")       // the first container's first port
                .containsEntry("StatefulSet/ledger", "7000")
                .containsEntry("Job/nightly-report", "8080")               // no port declared
                .containsEntry("Deployment/search", "9201");               // --app-port
    }

    @Test
    void resourcesAreTheFlagsOrTheDefaults() {
        for (var e : injectedDocuments()) {
            JsonNode r = Injected.sidecar(e.getValue()).path("resources");
            SidecarResources expected = e.getKey().options().resources();
            assertThat(r.path("requests").path("cpu").asText()).isEqualTo(expected.cpuRequest().text());
            assertThat(r.path("requests").path("memory").asText()).isEqualTo(expected.memoryRequest().text());
            assertThat(r.path("limits").path("cpu").asText()).isEqualTo(expected.cpuLimit().text());
            assertThat(r.path("limits").path("memory").asText()).isEqualTo(expected.memoryLimit().text());
            assertThat(r.path("limits").path("cpu").isTextual()).as("quantities are strings").isTrue();
        }
    }

    @Test
    void volumesAndMountsAreThere() {
        for (var e : injectedDocuments()) {
            JsonNode pod = Injected.pod(e.getValue());
            String where = e.getKey().name() + " " + e.getValue().path("metadata").path("name").asText();
            Map<String, JsonNode> volumes = new HashMap<>();
            pod.path("spec").path("volumes").forEach(v -> volumes.put(v.path("name").asText(), v));
            assertThat(volumes.get("outrider-token").path("projected").path("sources").toString()).as(where)
                    .isEqualTo("[{\"serviceAccountToken\":{\"audience\":\"outrider\",\"expirationSeconds\":3600,"
                            + "\"path\":\"token\"}}]");
            assertThat(volumes.get("outrider-mesh").path("configMap").path("name").asText()).isEqualTo("outrider-mesh");
            assertThat(volumes.get("outrider-data").path("emptyDir").isObject()).as(where).isTrue();
            assertThat(volumes.get("outrider-tmp").path("emptyDir").isObject()).as(where).isTrue();
            Map<String, String> mounts = new HashMap<>();
            Set<String> readOnly = new TreeSet<>();
            Injected.sidecar(e.getValue()).path("volumeMounts").forEach(m -> {
                mounts.put(m.path("name").asText(), m.path("mountPath").asText());
                if (m.path("readOnly").asBoolean(false)) {
                    readOnly.add(m.path("name").asText());
                }
            });
            assertThat(mounts).as(where).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "outrider-token", "/var/run/secrets/outrider",
                    "outrider-mesh", "/etc/outrider/mesh",
                    "outrider-data", "/var/run/outrider",
                    "outrider-tmp", "/tmp"));
            assertThat(readOnly).as(where).containsExactly("outrider-mesh", "outrider-token");
            assertThat(pod.path("metadata").path("annotations").path("outrider.dev/injected").asText()).as(where)
                    .isEqualTo("0.1.0");
        }
    }

    @Test
    void theImageIsTheFlagOrTheDefault() {
        for (var e : injectedDocuments()) {
            assertThat(Injected.sidecar(e.getValue()).path("image").asText()).isEqualTo(e.getKey().options().image());
        }
        assertThat(InjectOptions.defaults().image()).isEqualTo("outrider/sidecar:0.1.0");
    }

    private static String fieldRef(Map<String, JsonNode> env, String name) {
        JsonNode v = env.get(name);
        assertThat(v.has("value")).as(name + " has no literal value").isFalse();
        return v.path("valueFrom").path("fieldRef").path("fieldPath").asText();
    }

    private static int count(JsonNode containers) {
        int n = 0;
        for (JsonNode c : containers) {
            if (c.path("name").asText().equals("outrider-proxy")) {
                n++;
            }
        }
        return n;
    }
}
