package dev.outrider.e2e;

import dev.outrider.controlplane.signing.SigningKey;
import dev.outrider.controlplane.store.EtcdStore;
import dev.outrider.controlplane.store.EtcdStoreConfig;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.testing.EtcdCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.outrider.e2e.Yamls.at;
import static dev.outrider.e2e.Yamls.list;
import static dev.outrider.e2e.Yamls.map;
import static dev.outrider.e2e.Yamls.one;
import static dev.outrider.e2e.Yamls.string;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * docker/kubernetes/: the control plane's and the sample's manifests have what a restricted cluster and the
 * sidecar contract need (security contexts, probes, resources, names), and mesh-secrets.sh makes Secrets and
 * ConfigMaps whose content is the CA and the public snapshot keys of the signing key it makes.
 */
class KubernetesManifestsTest {
    static final Path KUBERNETES = ImageHome.ROOT.resolve("docker/kubernetes");

    @TempDir
    Path dir;

    /** Security context, resources and (for containers with ports) probes of every container of a pod spec. */
    static void assertHardened(String what, Map<String, Object> podSpec) {
        assertThat(at(podSpec, "securityContext.runAsNonRoot")).as(what).isEqualTo(true);
        assertThat(at(podSpec, "securityContext.runAsUser")).as(what).isEqualTo(65532);
        assertThat(at(podSpec, "securityContext.seccompProfile.type")).as(what).isEqualTo("RuntimeDefault");
        for (Object c : list(podSpec.get("containers"), what + " containers")) {
            Map<String, Object> container = map(c, what + " container");
            String name = what + "/" + container.get("name");
            assertThat(at(container, "securityContext.readOnlyRootFilesystem")).as(name).isEqualTo(true);
            assertThat(at(container, "securityContext.allowPrivilegeEscalation")).as(name).isEqualTo(false);
            assertThat(list(at(container, "securityContext.capabilities.drop"), name)).as(name).containsExactly("ALL");
            assertThat(map(at(container, "resources.requests"), name)).as(name).containsKeys("cpu", "memory");
            assertThat(map(at(container, "resources.limits"), name)).as(name).containsKeys("cpu", "memory");
            if (container.containsKey("ports")) {
                assertThat(container).as(name + " probes").containsKeys("readinessProbe", "livenessProbe");
            }
            Set<String> volumes = new HashSet<>();
            if (podSpec.get("volumes") instanceof List<?> vs) {
                vs.forEach(v -> volumes.add(string(v, "name")));
            }
            if (container.get("volumeMounts") instanceof List<?> mounts) {
                mounts.forEach(m -> assertThat(volumes).as(name + " mounts a declared volume").contains(string(m, "name")));
            }
        }
    }

    @Test
    void theControlPlaneRunsThreeReplicasOnEtcdRestrictedProbedAndWithTheContractsNames() throws Exception {
        List<Object> docs = Yamls.documents(KUBERNETES.resolve("control-plane.yaml"));
        assertThat(at(one(docs, "Namespace", "outrider-system"), "metadata.labels"))
                .isEqualTo(Map.of("pod-security.kubernetes.io/enforce", "restricted"));
        assertThat(one(docs, "ServiceAccount", "control-plane").get("automountServiceAccountToken")).isEqualTo(false);
        assertThat(Yamls.ofKind(docs, "PersistentVolumeClaim", "outrider-control-plane-data"))
                .as("the state is in etcd").isEmpty();

        Map<String, Object> deployment = one(docs, "Deployment", "outrider-control-plane");
        assertThat(at(deployment, "metadata.namespace")).isEqualTo("outrider-system");
        assertThat(at(deployment, "spec.replicas")).isEqualTo(3);
        assertThat(at(deployment, "spec.strategy.type")).isEqualTo("RollingUpdate");
        assertThat(at(deployment, "spec.strategy.rollingUpdate.maxUnavailable")).isEqualTo(1);
        assertThat(at(deployment, "spec.template.spec.affinity.podAntiAffinity"
                + ".preferredDuringSchedulingIgnoredDuringExecution")).isNotNull();
        Map<String, Object> budget = one(docs, "PodDisruptionBudget", "outrider-control-plane");
        assertThat(at(budget, "spec.maxUnavailable")).isEqualTo(1);
        assertThat(at(budget, "spec.selector.matchLabels")).isEqualTo(at(deployment, "spec.selector.matchLabels"));
        Map<String, Object> pod = map(at(deployment, "spec.template.spec"), "pod");
        assertHardened("control-plane", pod);
        assertThat(pod).containsEntry("serviceAccountName", "control-plane").containsEntry("automountServiceAccountToken", false);
        assertThat(at(deployment, "spec.template.metadata.annotations"))
                .isEqualTo(Map.of("outrider.dev/inject", "false"));

        Map<String, Object> container = map(list(pod.get("containers"), "containers").getFirst(), "container");
        assertThat(container.get("image")).isEqualTo("outrider/control-plane:0.1.0");
        List<Object> args = list(container.get("args"), "args");
        assertThat(args).contains("--listen=0.0.0.0:15010", "--data-dir=/var/lib/outrider",
                "--ca-cert=/etc/outrider/ca/ca.pem", "--ca-key=/etc/outrider/ca/ca.key",
                "--signing-key=/etc/outrider/signing/signing-key.pem", "--k8s-issuer=$(OUTRIDER_K8S_ISSUER)",
                "--k8s-jwks=/etc/outrider/k8s/jwks.json", "--k8s-audience=outrider",
                "--etcd-ca=/etc/outrider/etcd/ca.pem", "--etcd-cert=/etc/outrider/etcd/client.pem",
                "--etcd-key=/etc/outrider/etcd/client.key");
        List<String> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            members.add("outrider-etcd-" + i + ".outrider-etcd.outrider-system.svc:2379");
        }
        assertThat(args).contains("--store=etcd://" + String.join(",", members));
        assertThat(args).anySatisfy(a -> assertThat(a.toString())
                .startsWith("--server-name=outrider-control-plane.outrider-system.svc,"));
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            assertThat(at(container, probe + ".httpGet"))
                    .isEqualTo(Map.of("path", "/v1/health", "port", "https", "scheme", "HTTPS"));
        }
        assertThat(list(container.get("ports"), "ports")).containsExactly(
                Map.of("name", "https", "containerPort", 15010, "protocol", "TCP"));

        Map<String, String> mounts = new HashMap<>();
        for (Object m : list(container.get("volumeMounts"), "volumeMounts")) {
            mounts.put(string(m, "mountPath"), string(m, "name"));
            if (!string(m, "mountPath").equals("/var/lib/outrider") && !string(m, "mountPath").equals("/tmp")) {
                assertThat(at(m, "readOnly")).as(string(m, "mountPath")).isEqualTo(true);
            }
        }
        assertThat(mounts).containsEntry("/var/lib/outrider", "data").containsEntry("/tmp", "tmp")
                .containsEntry("/etc/outrider/ca", "ca").containsEntry("/etc/outrider/signing", "signing-key")
                .containsEntry("/etc/outrider/k8s", "k8s").containsEntry("/etc/outrider/etcd", "etcd-client");
        Map<String, Object> volumes = new HashMap<>();
        list(pod.get("volumes"), "volumes").forEach(v -> volumes.put(string(v, "name"), v));
        assertThat(at(volumes.get("data"), "emptyDir")).isNotNull();
        assertThat(at(volumes.get("etcd-client"), "secret.secretName")).isEqualTo("outrider-etcd-client");
        assertThat(at(volumes.get("ca"), "secret.secretName")).isEqualTo("outrider-ca");
        assertThat(at(volumes.get("signing-key"), "secret.secretName")).isEqualTo("outrider-signing-key");
        assertThat(at(volumes.get("k8s"), "configMap.name")).isEqualTo("outrider-k8s");

        Map<String, Object> service = one(docs, "Service", "outrider-control-plane");
        assertThat(at(service, "metadata.namespace")).isEqualTo("outrider-system");
        assertThat(list(at(service, "spec.ports"), "ports")).containsExactly(
                Map.of("name", "https", "port", 15010, "targetPort", "https", "protocol", "TCP"));
        assertThat(at(service, "spec.selector")).isEqualTo(at(deployment, "spec.selector.matchLabels"));
    }

    @Test
    void etcdRunsThreeTlsMembersOnePerNodeThatKeepAQuorum() throws Exception {
        List<Object> docs = Yamls.documents(KUBERNETES.resolve("etcd.yaml"));
        Map<String, Object> set = one(docs, "StatefulSet", "outrider-etcd");
        assertThat(at(set, "metadata.namespace")).isEqualTo("outrider-system");
        assertThat(at(set, "spec.replicas")).isEqualTo(3);
        assertThat(at(set, "spec.serviceName")).isEqualTo("outrider-etcd");
        Map<String, Object> pod = map(at(set, "spec.template.spec"), "etcd pod");
        Map<String, Object> withClaims = new HashMap<>(pod); // the data volume comes from the claim template
        List<Object> volumes = new ArrayList<>(list(pod.get("volumes"), "volumes"));
        list(at(set, "spec.volumeClaimTemplates"), "claims").forEach(c -> volumes.add(Map.of("name",
                string(c, "metadata.name"))));
        withClaims.put("volumes", volumes);
        assertHardened("etcd", withClaims);
        assertThat(at(pod, "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution")).isNotNull();
        Map<String, Object> container = map(list(pod.get("containers"), "containers").getFirst(), "etcd");
        List<Object> args = list(container.get("args"), "args");
        assertThat(args).contains("--client-cert-auth", "--peer-client-cert-auth",
                "--trusted-ca-file=/etc/etcd/tls/ca.pem", "--cert-file=/etc/etcd/tls/server.pem",
                "--key-file=/etc/etcd/tls/server.key", "--listen-client-urls=https://0.0.0.0:2379",
                "--initial-cluster-state=new");
        assertThat(args).anySatisfy(a -> assertThat(a.toString()).isEqualTo("--initial-cluster="
                + "outrider-etcd-0=https://outrider-etcd-0.outrider-etcd.outrider-system.svc:2380,"
                + "outrider-etcd-1=https://outrider-etcd-1.outrider-etcd.outrider-system.svc:2380,"
                + "outrider-etcd-2=https://outrider-etcd-2.outrider-etcd.outrider-system.svc:2380"));
        Map<String, Object> tls = map(list(pod.get("volumes"), "volumes").getFirst(), "tls");
        assertThat(at(tls, "secret.secretName")).isEqualTo("outrider-etcd-tls");
        assertThat(at(one(docs, "PodDisruptionBudget", "outrider-etcd"), "spec.minAvailable")).isEqualTo(2);
        Map<String, Object> service = one(docs, "Service", "outrider-etcd");
        assertThat(at(service, "spec.clusterIP")).isEqualTo("None");
        assertThat(at(service, "spec.selector")).isEqualTo(at(set, "spec.selector.matchLabels"));
    }

    @Test
    void theSampleAppIsUninjectedRestrictedAndReadableByInject() throws Exception {
        Path file = KUBERNETES.resolve("sample-app.yaml");
        assertThat(Yamls.hasAnchorsOrAliases(file)).as("outrider inject refuses YAML anchors and aliases").isFalse();
        List<Object> docs = Yamls.documents(file);
        assertThat(one(docs, "Namespace", "shop")).isNotNull();
        for (String workload : List.of("orders", "frontend")) {
            assertThat(one(docs, "ServiceAccount", workload).get("automountServiceAccountToken")).isEqualTo(false);
            Map<String, Object> deployment = one(docs, "Deployment", workload);
            assertThat(at(deployment, "metadata.namespace")).isEqualTo("shop");
            Map<String, Object> pod = map(at(deployment, "spec.template.spec"), workload);
            assertThat(pod.get("serviceAccountName")).isEqualTo(workload);
            assertThat(map(at(deployment, "spec.template.metadata.labels"), "labels"))
                    .containsEntry("app.kubernetes.io/name", workload).containsEntry("app", workload);
            assertHardened(workload, pod);
            assertThat(list(pod.get("containers"), "containers")).noneSatisfy(c ->
                    assertThat(string(c, "name")).isEqualTo("outrider-proxy"));
            assertThat(pod).doesNotContainKey("initContainers");
            Map<String, Object> service = one(docs, "Service", workload);
            assertThat(at(service, "spec.selector")).isEqualTo(at(deployment, "spec.selector.matchLabels"));
        }
        // Without traffic redirection the application's port must be closed to other pods: only the sidecar's
        // inbound and health ports are let in, for every pod of the namespace.
        Map<String, Object> policy = one(docs, "NetworkPolicy", "outrider-sidecar-ports-only");
        assertThat(at(policy, "metadata.namespace")).isEqualTo("shop");
        assertThat(at(policy, "spec.podSelector")).isEqualTo(Map.of());
        assertThat(at(policy, "spec.policyTypes")).isEqualTo(List.of("Ingress"));
        List<Object> rules = list(at(policy, "spec.ingress"), "ingress");
        assertThat(rules).hasSize(1);
        assertThat(map(rules.get(0), "rule")).containsOnlyKeys("ports");
        assertThat(list(map(rules.get(0), "rule").get("ports"), "ports")).containsExactly(
                Map.of("port", 15006, "protocol", "TCP"), Map.of("port", 15021, "protocol", "TCP"));

        // Nor may the application go around its sidecar's egress allow-list: the pods reach only cluster DNS, the
        // control plane and other sidecars' inbound port.
        Map<String, Object> egress = one(docs, "NetworkPolicy", "outrider-egress-through-sidecar");
        assertThat(at(egress, "metadata.namespace")).isEqualTo("shop");
        assertThat(at(egress, "spec.podSelector")).isEqualTo(Map.of());
        assertThat(at(egress, "spec.policyTypes")).isEqualTo(List.of("Egress"));
        List<Object> out = list(at(egress, "spec.egress"), "egress");
        assertThat(out).hasSize(3);
        assertThat(list(map(out.get(0), "dns").get("ports"), "ports")).containsExactly(
                Map.of("port", 53, "protocol", "UDP"), Map.of("port", 53, "protocol", "TCP"));
        Map<String, Object> controlPlane = map(list(map(out.get(1), "cp").get("to"), "to").get(0), "peer");
        assertThat(at(controlPlane, "namespaceSelector.matchLabels")).isEqualTo(
                Map.of("kubernetes.io/metadata.name", "outrider-system"));
        assertThat(at(controlPlane, "podSelector.matchLabels")).isEqualTo(
                Map.of("app.kubernetes.io/name", "outrider-control-plane"));
        assertThat(list(map(out.get(1), "cp").get("ports"), "ports")).containsExactly(
                Map.of("port", 15010, "protocol", "TCP"));
        assertThat(list(map(out.get(2), "mesh").get("ports"), "ports")).containsExactly(
                Map.of("port", 15006, "protocol", "TCP"));
        for (Object rule : out) {
            assertThat(map(rule, "rule")).as("no rule without peers: that would allow every destination")
                    .containsKey("to");
        }
    }

    @Test
    void meshSecretsMakesTheCaTheSigningKeyAndTheConfigMaps() throws Exception {
        Path scripts = Files.createDirectories(dir.resolve("certs"));
        Files.copy(ImageHome.ROOT.resolve("certs/mesh-ca.sh"), scripts.resolve("mesh-ca.sh"),
                java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        Path jwks = Files.writeString(dir.resolve("jwks.json"),
                "{\"keys\":[{\"use\":\"sig\",\"kty\":\"EC\",\"kid\":\"k1\",\"crv\":\"P-256\",\"alg\":\"ES256\","
                        + "\"x\":\"m8AAEbRrxv6ag0l9K_oo9EcrKZ8YpNcee3bKGA4JSiw\",\"y\":\"qqUHnGTMzYeCG_Y2Il5GOZ6N2V5vAHGz9HuYRT2usnU\"}]}");
        Path out = dir.resolve("manifests");

        ImageHome.Run r = meshSecrets("--k8s-issuer", "https://kubernetes.default.svc.cluster.local", "--k8s-jwks",
                jwks.toString(), "--out", out.toString(), "shop", "payments");

        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).doesNotContain("PRIVATE KEY");
        Path ca = scripts.resolve("out/ca/ca.pem");
        Path signingKey = scripts.resolve("out/snapshot-signing-key.pem");
        assertThat(Files.getPosixFilePermissions(signingKey)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(out.resolve("outrider-system.yaml")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));

        List<Object> system = Yamls.documents(out.resolve("outrider-system.yaml"));
        Map<String, Object> caSecret = one(system, "Secret", "outrider-ca");
        assertThat(decoded(caSecret, "ca.pem")).isEqualTo(Files.readString(ca));
        assertThat(decoded(caSecret, "ca.key")).isEqualTo(Files.readString(scripts.resolve("out/ca/ca.key")));
        assertThat(decoded(one(system, "Secret", "outrider-signing-key"), "signing-key.pem"))
                .isEqualTo(Files.readString(signingKey));
        Map<String, Object> k8s = one(system, "ConfigMap", "outrider-k8s");
        assertThat(at(k8s, "data.issuer")).isEqualTo("https://kubernetes.default.svc.cluster.local");
        assertThat(map(k8s.get("data"), "data").get("jwks.json")).isEqualTo(Files.readString(jwks));
        for (Object doc : system) {
            if (!"Namespace".equals(map(doc, "doc").get("kind"))) {
                assertThat(at(doc, "metadata.namespace")).isEqualTo("outrider-system");
            }
        }

        // etcd's own CA, the members' certificate and the control plane's client certificate, made once.
        Path etcdDir = scripts.resolve("out/etcd");
        Map<String, Object> etcdTls = one(system, "Secret", "outrider-etcd-tls");
        Map<String, Object> etcdClient = one(system, "Secret", "outrider-etcd-client");
        for (String file : List.of("ca.pem", "server.pem", "server.key")) {
            assertThat(decoded(etcdTls, file)).as(file).isEqualTo(Files.readString(etcdDir.resolve(file)));
        }
        for (String file : List.of("ca.pem", "client.pem", "client.key")) {
            assertThat(decoded(etcdClient, file)).as(file).isEqualTo(Files.readString(etcdDir.resolve(file)));
        }
        for (String key : List.of("ca.key", "server.key", "client.key")) {
            assertThat(Files.getPosixFilePermissions(etcdDir.resolve(key))).as(key)
                    .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        }
        // They work: a real etcd member serving with them and requiring client certificates, reached by the
        // control plane's store with the client certificate, and refused without one.
        try (EtcdCluster etcd = EtcdCluster.start(dir.resolve("etcd"), 1, new EtcdCluster.ServerTls(
                etcdDir.resolve("ca.pem"), etcdDir.resolve("server.pem"), etcdDir.resolve("server.key")))) {
            EtcdStoreConfig.Tls withCertificate = EtcdStoreConfig.Tls.read(etcdDir.resolve("ca.pem"),
                    etcdDir.resolve("client.pem"), etcdDir.resolve("client.key"));
            try (EtcdStore store = EtcdStore.open(new EtcdStoreConfig(etcd.endpoints(), withCertificate, "/tls/",
                    Duration.ofSeconds(10)))) {
                ResourceKey key = new ResourceKey("Service", "shop", "orders");
                store.put(key, "{}".getBytes(StandardCharsets.UTF_8), Store.MUST_NOT_EXIST);
                assertThat(store.get(key)).isPresent();
            }
            EtcdStoreConfig.Tls anonymous = EtcdStoreConfig.Tls.read(etcdDir.resolve("ca.pem"), null, null);
            assertThatThrownBy(() -> EtcdStore.open(new EtcdStoreConfig(etcd.endpoints(), anonymous, "/tls/",
                    Duration.ofSeconds(3)))).isInstanceOf(UncheckedIOException.class);
        }

        // The sidecars' ConfigMap, in each namespace: the CA and the public keys of exactly that signing key.
        String publicKeys = new String(SigningKey.load(signingKey).publicKeysJson(), StandardCharsets.UTF_8);
        List<Object> mesh = Yamls.documents(out.resolve("outrider-mesh.yaml"));
        List<String> namespaces = new ArrayList<>();
        for (Map<String, Object> cm : Yamls.ofKind(mesh, "ConfigMap", "outrider-mesh")) {
            namespaces.add(string(cm, "metadata.namespace"));
            Map<String, Object> data = map(cm.get("data"), "data");
            assertThat(data).containsOnlyKeys("ca.pem", "snapshot-keys.json");
            assertThat(data.get("ca.pem")).isEqualTo(Files.readString(ca));
            assertThat(data.get("snapshot-keys.json")).isEqualTo(publicKeys);
        }
        assertThat(namespaces).containsExactly("shop", "payments");

        // Again: the CA and the key are kept, so nothing changes.
        ImageHome.Run again = meshSecrets("--k8s-issuer", "https://kubernetes.default.svc.cluster.local",
                "--k8s-jwks", jwks.toString(), "--out", dir.resolve("again").toString(), "shop", "payments");
        assertThat(again.exit()).as(again.output()).isZero();
        assertThat(again.output()).contains("using the mesh CA in");
        assertThat(Files.readString(dir.resolve("again/outrider-mesh.yaml")))
                .isEqualTo(Files.readString(out.resolve("outrider-mesh.yaml")));
    }

    @Test
    void meshSecretsRefusesBadInputNamingIt() throws Exception {
        Path scripts = Files.createDirectories(dir.resolve("certs"));
        Files.copy(ImageHome.ROOT.resolve("certs/mesh-ca.sh"), scripts.resolve("mesh-ca.sh"),
                java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        Path jwks = Files.writeString(dir.resolve("jwks.json"), "{\"not\": \"keys\"}");

        ImageHome.Run badNamespace = meshSecrets("--out", dir.resolve("m").toString(), "Shop_1");
        assertThat(badNamespace.exit()).isEqualTo(1);
        assertThat(badNamespace.output()).contains("namespace 'Shop_1' is not an RFC 1123 DNS label");

        ImageHome.Run badIssuer = meshSecrets("--k8s-issuer", "http://insecure", "--k8s-jwks", jwks.toString(),
                "--out", dir.resolve("m").toString());
        assertThat(badIssuer.exit()).isEqualTo(1);
        assertThat(badIssuer.output()).contains("the service-account issuer 'http://insecure' is not an https:// URL");

        ImageHome.Run badJwks = meshSecrets("--k8s-issuer", "https://issuer", "--k8s-jwks", jwks.toString(),
                "--out", dir.resolve("m").toString());
        assertThat(badJwks.exit()).isEqualTo(1);
        assertThat(badJwks.output()).contains(jwks + " is not a JWK Set");
    }

    private ImageHome.Run meshSecrets(String... args) throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("OUTRIDER_MESH_CA", dir.resolve("certs/mesh-ca.sh").toString());
        // The control plane's snapshot-keys command from the test class path (./outrider control-plane outside tests).
        env.put("OUTRIDER_CP_COMMAND", String.join(" ", MeshProcess.command(ControlPlaneProcess.MAIN, List.of())));
        env.put("KUBECTL", "/nonexistent/kubectl");
        List<String> command = new ArrayList<>(List.of(KUBERNETES.resolve("mesh-secrets.sh").toString()));
        command.addAll(List.of(args));
        return ImageHome.run(env, command);
    }

    private static String decoded(Map<String, Object> secret, String key) {
        return new String(Base64.getDecoder().decode(map(secret.get("data"), "data").get(key).toString()),
                StandardCharsets.UTF_8);
    }
}
