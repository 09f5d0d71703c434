package dev.outrider.e2e;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The images' runtime: jlink (of the JDK running the tests) with the modules of docker/jre-modules.txt and the
 * flags of the Dockerfiles' jre stage, then the control plane and two sidecars (with the image's configuration and
 * service-account tokens) through the images' entry points, {@code outrider ctl} (outrider-tools.jar, as the tools
 * image runs it) on that runtime, and the build's AOT training runs (docker/training/) on it. A module missing from
 * the list fails here, not in a cluster.
 */
class ImageJlinkTest {
    @TempDir
    static Path shared;
    static Path runtime;

    @TempDir
    Path dir;
    private final Started started = new Started();

    @BeforeAll
    static void jlink() throws Exception {
        List<String> modules = new ArrayList<>();
        for (String line : Files.readAllLines(ImageHome.ROOT.resolve("docker/jre-modules.txt"))) {
            String module = line.replaceAll("#.*", "").strip();
            if (!module.isEmpty()) {
                modules.add(module);
            }
        }
        runtime = shared.resolve("jre");
        Path jlink = Path.of(System.getProperty("java.home"), "bin", "jlink");
        ImageHome.Run r = ImageHome.run(System.getenv(), List.of(jlink.toString(), "--add-modules",
                String.join(",", modules), "--strip-debug", "--no-man-pages", "--no-header-files",
                "--compress", "zip-6", "--output", runtime.toString()));
        assertThat(r.exit()).as(r.output()).isZero();
        ImageHome.Run listed = ImageHome.run(System.getenv(), List.of(runtime.resolve("bin/java").toString(),
                "--list-modules"));
        assertThat(listed.output()).contains("jdk.unsupported@").doesNotContain("java.desktop@");
    }

    @AfterEach
    void stop() throws Exception {
        started.close();
    }

    /**
     * As in a cluster, minus the kubelet: the control plane trusts the service-account issuer the test plays; each
     * sidecar runs the image's own configuration (docker/sidecar.yaml) from the contract's environment and
     * bootstraps with its pod's projected token; ctl applies the sample's resources (docker/kubernetes/).
     */
    @Test
    void theControlPlaneSidecarsAndCtlRunOnTheJlinkedRuntime() throws Exception {
        ImageHome cpHome = ImageHome.create(dir.resolve("cp-home"), ImageHome.Kind.CONTROL_PLANE).withRuntime(runtime);
        ImageHome sidecarHome = ImageHome.create(dir.resolve("sidecar-home"), ImageHome.Kind.SIDECAR).withRuntime(runtime);
        Path cpTmp = Files.createDirectories(dir.resolve("cp-tmp"));
        RSAKey issuerKey = new RSAKeyGenerator(2048).keyID("issuer-key-1").keyUse(KeyUse.SIGNATURE)
                .algorithm(JWSAlgorithm.RS256).generate();
        Path jwks = Files.writeString(dir.resolve("jwks.json"), new JWKSet(issuerKey.toPublicJWK()).toString());
        TestCa ca = TestCa.create(dir.resolve("ca"));
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), MeshProcess.freePort(), ca,
                List.of("--k8s-issuer", KubernetesBootstrapEndToEndTest.ISSUER, "--k8s-jwks", jwks.toString()),
                (log, args) -> cpHome.start(log, Map.of("OUTRIDER_TMP_DIR", cpTmp.toString()), args)));

        // ctl on the jlinked runtime (outrider-tools.jar, as the tools image's outrider runs it) applies the
        // sample's Outrider resources.
        List<String> apply = new ArrayList<>(List.of(runtime.resolve("bin/java").toString(), "-jar",
                ImageHome.ROOT.resolve("tools/target/outrider-tools.jar").toString(), "ctl", "apply", "-f",
                ImageHome.ROOT.resolve("docker/kubernetes/sample-mesh.yaml").toString()));
        apply.addAll(cp.ctlOptions());
        ImageHome.Run applied = ImageHome.run(sidecarHome.environment(Map.of("OUTRIDER_TMP_DIR", cpTmp.toString())),
                apply);
        assertThat(applied.exit()).as(applied.output()).isZero();
        assertThat(applied.output()).contains("shop/orders-allow-frontend");

        Backend backend = started.keep(Backend.start());
        SidecarProcess.Ports ordersPorts = SidecarProcess.Ports.free();
        SidecarProcess.Ports frontendPorts = SidecarProcess.Ports.free();
        MeshProcess orders = started.keep(sidecar(sidecarHome, cp, ca, issuerKey, "orders", ordersPorts, backend.port()));
        MeshProcess frontend = started.keep(sidecar(sidecarHome, cp, ca, issuerKey, "frontend", frontendPorts, 8080));
        awaitReady(orders, ordersPorts.health());
        awaitReady(frontend, frontendPorts.health());

        // frontend → (its outbound, Host: orders.shop) → mTLS → orders → the backend, as sample-mesh.yaml allows.
        awaitStatus(frontendPorts.outbound(), "/hello", 200, frontend);
        assertThat(Pod.status(frontendPorts.outbound(), "orders.shop", "/admin")).isEqualTo(403);
        assertThat(orders.process.info().command().orElse("")).isEqualTo(runtime.resolve("bin/java").toString());
        assertThat(cp.logText()).contains("service-account token accepted for spiffe://cluster.local/ns/shop/sa/orders")
                .contains("service-account token accepted for spiffe://cluster.local/ns/shop/sa/frontend");

        for (MeshProcess p : List.of(frontend, orders)) {
            p.process.destroy();
            assertThat(p.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.process.exitValue()).as(p.logText()).isZero();
        }
        assertThat(orders.logText() + frontend.logText() + cp.logText())
                .doesNotContain("NoClassDefFoundError").doesNotContain("ClassNotFoundException");
    }

    /**
     * docker/training/train-*.sh, as the Dockerfiles' aot stage runs them (fewer requests), write caches the
     * entry points then use; {@code -XX:AOTMode=on} makes the JVM fail rather than run without the cache.
     */
    @Test
    void theTrainingRunsWriteAotCachesTheEntryPointsUse() throws Exception {
        Map<String, String> tools = new HashMap<>(System.getenv());
        tools.keySet().removeIf(k -> k.startsWith("OUTRIDER_") || k.startsWith("TRAINING_"));
        tools.put("MESH_CA", ImageHome.ROOT.resolve("certs/mesh-ca.sh").toString());
        tools.put("TMPDIR", Files.createDirectories(dir.resolve("tmp")).toString());

        ImageHome sidecar = ImageHome.create(dir.resolve("sidecar-home"), ImageHome.Kind.SIDECAR).withRuntime(runtime);
        Map<String, String> env = new HashMap<>(tools);
        env.put("OUTRIDER_HOME", sidecar.home.toString());
        for (String port : List.of("INBOUND", "OUTBOUND", "UPSTREAM", "HEALTH", "ADMIN")) {
            env.put("TRAINING_" + port + "_PORT", String.valueOf(MeshProcess.freePort()));
        }
        ImageHome.Run trained = ImageHome.run(env, List.of(
                ImageHome.ROOT.resolve("docker/training/train-sidecar.sh").toString(), "30"));
        assertThat(trained.exit()).as(trained.output()).isZero();
        assertThat(sidecar.home.resolve("aot/sidecar.aot")).isNotEmptyFile();
        assertUsesItsCache(sidecar);

        ImageHome cp = ImageHome.create(dir.resolve("cp-home"), ImageHome.Kind.CONTROL_PLANE).withRuntime(runtime);
        Map<String, String> cpEnv = new HashMap<>(tools);
        cpEnv.put("OUTRIDER_HOME", cp.home.toString());
        cpEnv.put("TRAINING_CONTROL_PLANE_PORT", String.valueOf(MeshProcess.freePort()));
        ImageHome.Run cpTrained = ImageHome.run(cpEnv, List.of(
                ImageHome.ROOT.resolve("docker/training/train-control-plane.sh").toString(), "3"));
        assertThat(cpTrained.exit()).as(cpTrained.output()).isZero();
        assertThat(cp.home.resolve("aot/control-plane.aot")).isNotEmptyFile();
        assertUsesItsCache(cp);
        // Nothing but the caches is left behind.
        try (var left = Files.list(dir.resolve("tmp"))) {
            assertThat(left.toList()).isEmpty();
        }
    }

    private void assertUsesItsCache(ImageHome home) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("OUTRIDER_TMP_DIR", Files.createDirectories(dir.resolve("run-tmp")).toString());
        env.put("JAVA_TOOL_OPTIONS", "-XX:AOTMode=on");
        ImageHome.Run version = ImageHome.run(home.environment(env), List.of(home.entrypoint().toString(), "--version"));
        assertThat(version.exit()).as(version.output()).isZero();
        assertThat(version.output()).contains("outrider").doesNotContain("not used");
    }

    /** A pod of shop/{@code service}: the image's config, the mesh ConfigMap's files, a projected token. */
    private MeshProcess sidecar(ImageHome home, ControlPlaneProcess cp, TestCa ca, RSAKey issuerKey, String service,
                                SidecarProcess.Ports ports, int appPort) throws Exception {
        Pod pod = Pod.create(dir.resolve(service), cp, ca);
        Files.writeString(pod.secrets.resolve("token"), KubernetesBootstrapEndToEndTest.projectedToken(issuerKey,
                "shop", service, service + "-6f7c9-abcde", "outrider"));
        Path config = pod.config(ImageHome.ROOT.resolve("docker/sidecar.yaml"), ports);
        Map<String, String> env = pod.env(config, ports, cp, appPort, service);
        env.remove("OUTRIDER_JOIN_TOKEN_FILE");
        return home.start(dir.resolve(service + ".log"), env, List.of());
    }

    private static void awaitReady(MeshProcess sidecar, int healthPort) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!sidecar.isAlive()) {
                throw new AssertionError("exited with " + sidecar.process.exitValue() + ":\n" + sidecar.logText());
            }
            try {
                if (Pod.status(healthPort, "127.0.0.1", "/ready") == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not ready within 90 s:\n" + sidecar.logText());
    }

    private static void awaitStatus(int outbound, String path, int expected, MeshProcess caller) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = Pod.status(outbound, "orders.shop", path);
            if (last == expected) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("GET " + path + " answered " + last + ", not " + expected + ":\n" + caller.logText());
    }
}
