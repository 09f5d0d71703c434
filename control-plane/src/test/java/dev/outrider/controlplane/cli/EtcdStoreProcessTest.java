package dev.outrider.controlplane.cli;

import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.ControlPlaneProcess;
import dev.outrider.controlplane.testing.EtcdCluster;
import dev.outrider.controlplane.testing.TestMesh;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code outrider control-plane --store etcd://...} as real processes on a real three-member etcd cluster:
 * replicas share one store, a restart keeps everything, losing etcd's quorum gives 503 and regaining it heals,
 * and bad store options are refused by name.
 */
@Timeout(180)
class EtcdStoreProcessTest {
    private static final String YAML = "application/yaml";
    private static final String TOKEN = "etcd-process-test-token-0123456789";
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @TempDir
    static Path dir;
    static EtcdCluster etcd;
    static TestMesh mesh;
    static Path signingKey;
    static Path tokenFile;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.start(dir.resolve("etcd"), 3);
        mesh = TestMesh.create(dir.resolve("ca"));
        signingKey = dir.resolve("signing-key.pem");
        Files.writeString(signingKey, TestMesh.pkcs8(TestMesh.ec().getPrivate()));
        tokenFile = dir.resolve("admin-token");
        Files.writeString(tokenFile, TOKEN);
    }

    @AfterAll
    static void stop() {
        if (etcd != null) {
            etcd.close();
        }
    }

    private static List<String> args(String name, String prefix, String... extra) {
        List<String> args = new ArrayList<>(List.of("--listen", "127.0.0.1:0",
                "--data-dir", dir.resolve(name).toString(),
                "--ca-cert", mesh.caCertFile().toString(), "--ca-key", mesh.caKeyFile().toString(),
                "--admin-token-file", tokenFile.toString(),
                "--store", etcd.storeUri(), "--etcd-prefix", prefix, "--signing-key", signingKey.toString()));
        args.addAll(List.of(extra));
        return args;
    }

    private static ApiClient admin(ControlPlaneProcess cp) throws Exception {
        return ApiClient.of(mesh.trusting(), cp.address()).withBearer(TOKEN);
    }

    private static String service(String protocol, long resourceVersion) {
        return "apiVersion: outrider.dev/v1\nkind: Service\n"
                + (resourceVersion > 0 ? "metadata: {resourceVersion: \"" + resourceVersion + "\"}\n" : "")
                + "spec: {protocol: " + protocol + "}\n";
    }

    private static long version(HttpResponse<String> r) throws Exception {
        return Long.parseLong(ApiClient.json(r).at("/metadata/resourceVersion").asText());
    }

    @Test
    void replicasShareOneStoreAndARestartKeepsIt() throws Exception {
        String prefix = "/share-" + PREFIXES.incrementAndGet() + "/";
        String path = "/v1/namespaces/shop/services/orders";
        long v1;
        try (ControlPlaneProcess one = ControlPlaneProcess.start(dir.resolve("one.log"), args("one", prefix));
             ControlPlaneProcess two = ControlPlaneProcess.start(dir.resolve("two.log"), args("two", prefix))) {
            HttpResponse<String> created = admin(one).put(path, YAML, service("http1", 0));
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            v1 = version(created);

            HttpResponse<String> read = admin(two).get(path);
            assertThat(read.statusCode()).as("written through one, read through two").isEqualTo(200);
            assertThat(version(read)).isEqualTo(v1);
            assertThat(ApiClient.json(read).at("/spec/protocol").asText()).isEqualTo("http1");

            HttpResponse<String> updated = admin(two).put(path, YAML, service("auto", v1));
            assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
            HttpResponse<String> stale = admin(one).put(path, YAML, service("http1", v1));
            assertThat(stale.statusCode()).as("a stale version through the other replica").isEqualTo(409);
            assertThat(ApiClient.json(stale).get("message").asText())
                    .isEqualTo("conflict on Service/shop/orders: expected version " + v1 + ", but it is at version "
                            + version(updated));

            // The same snapshot-signing key in both: sidecars trust either replica's snapshots.
            assertThat(admin(one).get("/v1/snapshot-keys").body()).isEqualTo(admin(two).get("/v1/snapshot-keys").body());

            one.terminate();
            two.terminate();
            assertThat(one.awaitExit(Duration.ofSeconds(20))).as(one.logText()).isZero();
            assertThat(two.awaitExit(Duration.ofSeconds(20))).as(two.logText()).isZero();
            assertThat(one.logText()).doesNotContain("PRIVATE KEY").doesNotContain(TOKEN);
        }
        try (ControlPlaneProcess again = ControlPlaneProcess.start(dir.resolve("again.log"), args("again", prefix))) {
            HttpResponse<String> read = admin(again).get(path);
            assertThat(read.statusCode()).isEqualTo(200);
            assertThat(ApiClient.json(read).at("/spec/protocol").asText()).isEqualTo("auto");
            assertThat(version(read)).isGreaterThan(v1);
        }
    }

    @Test
    void withoutQuorumWritesAre503AndTheyHealWhenItReturns() throws Exception {
        String prefix = "/quorum-" + PREFIXES.incrementAndGet() + "/";
        try (ControlPlaneProcess cp = ControlPlaneProcess.start(dir.resolve("quorum.log"),
                args("quorum", prefix, "--etcd-timeout", "2s"))) {
            ApiClient admin = admin(cp);
            assertThat(admin.put("/v1/namespaces/shop/services/a", YAML, service("auto", 0)).statusCode()).isEqualTo(201);

            etcd.kill(1);
            etcd.kill(2);
            try {
                HttpResponse<String> refused = admin.put("/v1/namespaces/shop/services/b", YAML, service("auto", 0));
                assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
                assertThat(ApiClient.json(refused).get("reason").asText()).isEqualTo("Unavailable");
                // The route reads before it writes: either the read finds no quorum, or the write is not confirmed.
                assertThat(ApiClient.json(refused).get("message").asText()).isIn(
                        "the control plane cannot write to its store now; retry later",
                        "the store did not confirm the write in time; it may still be applied:"
                                + " read the resource before you retry");
                // Which depends on the moment: no answer in 2 s, or the connection to a killed member closing first.
                assertThat(cp.logText()).containsPattern("etcd \\(etcd://[^)]+\\) (did not confirm put|did not answer get"
                        + "|refused (get|put)) Service/shop/b");
                // reads that need etcd are 503 too, not 500: the sidecar statuses are read from it
                HttpResponse<String> statuses = admin.get("/v1/sidecars");
                assertThat(statuses.statusCode()).as(statuses.body()).isEqualTo(503);
            } finally {
                etcd.restartNoWait(1);
                etcd.restartNoWait(2);
                for (int i = 0; i < 3; i++) {
                    etcd.awaitHealthy(i);
                }
            }
            HttpResponse<String> healed = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                healed = admin.put("/v1/namespaces/shop/services/b", YAML, service("auto", 0));
                if (healed.statusCode() != 503) {
                    break;
                }
                Thread.sleep(200);
            }
            // 201, or 200 when etcd committed the unconfirmed write once its quorum was back.
            assertThat(healed.statusCode()).as(healed.body()).isIn(200, 201);
            assertThat(ApiClient.json(admin.get("/v1/namespaces/shop/services/b")).at("/spec/protocol").asText())
                    .isEqualTo("auto");
            assertThat(admin.get("/v1/namespaces/shop/services/a").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aFileStoreMovesToEtcdWithExportAndImport() throws Exception {
        Path data = dir.resolve("file-data");
        List<String> fileArgs = List.of("--listen", "127.0.0.1:0", "--data-dir", data.toString(),
                "--ca-cert", mesh.caCertFile().toString(), "--ca-key", mesh.caKeyFile().toString(),
                "--admin-token-file", tokenFile.toString(), "--signing-key", signingKey.toString());
        long fileVersion;
        long fileSnapshot;
        try (ControlPlaneProcess cp = ControlPlaneProcess.start(dir.resolve("file.log"), fileArgs)) {
            for (int i = 0; i < 5; i++) {
                assertThat(admin(cp).put("/v1/namespaces/shop/services/s" + i, YAML, service("auto", 0)).statusCode())
                        .isEqualTo(201);
            }
            fileVersion = version(admin(cp).put("/v1/namespaces/shop/services/orders", YAML, service("http1", 0)));
            HttpResponse<String> snapshot = admin(cp).get("/v1/snapshots/shop/orders?after=0&wait=10");
            fileSnapshot = Long.parseLong(snapshot.headers().firstValue("outrider-snapshot-version").orElseThrow());
            cp.terminate();
            assertThat(cp.awaitExit(Duration.ofSeconds(20))).isZero();
        }

        Path export = dir.resolve("export.json");
        ControlPlaneProcess exporting = ControlPlaneProcess.launch(dir.resolve("export.log"),
                List.of("export-store", "--data-dir", data.toString(), "--out", export.toString()));
        assertThat(exporting.awaitExit(Duration.ofSeconds(60))).as(exporting.logText()).isZero();
        assertThat(exporting.logText()).contains("6 resources at revision");
        String prefix = "/moved-" + PREFIXES.incrementAndGet() + "/";
        ControlPlaneProcess importing = ControlPlaneProcess.launch(dir.resolve("import.log"),
                List.of("import-store", "--store", etcd.storeUri(), "--etcd-prefix", prefix, "--in", export.toString()));
        assertThat(importing.awaitExit(Duration.ofSeconds(60))).as(importing.logText()).isZero();
        ControlPlaneProcess again = ControlPlaneProcess.launch(dir.resolve("import-again.log"),
                List.of("import-store", "--store", etcd.storeUri(), "--etcd-prefix", prefix, "--in", export.toString()));
        assertThat(again.awaitExit(Duration.ofSeconds(60))).as("not into a store that holds something").isEqualTo(1);
        assertThat(again.logText()).contains("restore into an empty prefix");

        try (ControlPlaneProcess cp = ControlPlaneProcess.start(dir.resolve("moved.log"), args("moved", prefix))) {
            HttpResponse<String> read = admin(cp).get("/v1/namespaces/shop/services/orders");
            assertThat(read.statusCode()).isEqualTo(200);
            assertThat(ApiClient.json(read).at("/spec/protocol").asText()).isEqualTo("http1");
            assertThat(version(read)).as("versions continue after the file store's").isGreaterThan(fileVersion);
            HttpResponse<String> snapshot = admin(cp).get("/v1/snapshots/shop/orders?after=" + fileSnapshot + "&wait=10");
            assertThat(snapshot.statusCode()).as("a sidecar holding the old snapshot takes the new one").isEqualTo(200);
        }
    }

    @Test
    void badStoreOptionsAreRefusedByName() throws Exception {
        List<String> base = List.of("--listen", "127.0.0.1:0", "--data-dir", dir.resolve("bad").toString(),
                "--ca-cert", mesh.caCertFile().toString(), "--ca-key", mesh.caKeyFile().toString());
        record Case(List<String> extra, int exit, String message) {
        }
        List<Case> cases = List.of(
                new Case(List.of("--store", etcd.storeUri()), 2, "needs --signing-key"),
                new Case(List.of("--store", "etcd://127.0.0.1", "--signing-key", signingKey.toString()), 2,
                        "etcd endpoint '127.0.0.1' in 'etcd://127.0.0.1' is not HOST:PORT"),
                new Case(List.of("--store", "consul://x:1"), 2, "--store: 'consul://x:1' is neither file nor etcd://"),
                new Case(List.of("--etcd-ca", signingKey.toString()), 2, "--etcd-ca: needs --store etcd://"),
                new Case(List.of("--store", etcd.storeUri(), "--signing-key", signingKey.toString(),
                        "--etcd-prefix", "outrider"), 2, "etcd key prefix 'outrider' must start and end with '/'"),
                new Case(List.of("--store", "etcd://127.0.0.1:1", "--signing-key", signingKey.toString(),
                        "--etcd-timeout", "1s"), 1, "etcd (etcd://127.0.0.1:1 /outrider/) did not answer"));
        for (Case c : cases) {
            List<String> args = new ArrayList<>(base);
            args.addAll(c.extra());
            Path log = dir.resolve("bad-" + cases.indexOf(c) + ".log");
            ControlPlaneProcess cp = ControlPlaneProcess.launch(log, args);
            assertThat(cp.awaitExit(Duration.ofSeconds(60))).as(String.join(" ", c.extra()) + ": " + cp.logText())
                    .isEqualTo(c.exit());
            assertThat(cp.logText()).as(String.join(" ", c.extra())).contains(c.message());
        }
    }
}
