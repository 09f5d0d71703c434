package dev.outrider.controlplane.cli;

import dev.outrider.controlplane.store.FileStore;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.ControlPlaneProcess;
import dev.outrider.controlplane.testing.TestMesh;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code outrider control-plane} as a real process: start-up line, files it writes, SIGTERM, exit codes. */
class ControlPlaneMainProcessTest {
    @TempDir
    Path dir;
    private TestMesh mesh;
    private Path dataDir;

    @BeforeEach
    void makeCa() throws Exception {
        mesh = TestMesh.create(dir.resolve("ca"));
        dataDir = dir.resolve("data");
    }

    private List<String> args(String... extra) {
        List<String> args = new ArrayList<>(List.of("--data-dir", dataDir.toString(),
                "--ca-cert", mesh.caCertFile().toString(), "--ca-key", mesh.caKeyFile().toString()));
        args.addAll(List.of(extra));
        return args;
    }

    @Test
    void listensOnAnEphemeralPortServesAndClosesCleanlyOnSigterm() throws Exception {
        try (ControlPlaneProcess cp = ControlPlaneProcess.start(dir.resolve("cp.log"), args("--listen", "127.0.0.1:0"))) {
            assertThat(cp.address().getPort()).isPositive();
            assertThat(cp.address().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
            ApiClient client = ApiClient.of(mesh.trusting(), cp.address());
            HttpResponse<String> health = client.get("/v1/health");
            assertThat(health.statusCode()).isEqualTo(200);

            Path keyFile = dataDir.resolve("signing-key.pem");
            assertThat(Files.getPosixFilePermissions(keyFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(Files.readString(dataDir.resolve("snapshot-keys.json")))
                    .isEqualTo(client.get("/v1/snapshot-keys").body());
            assertThat(cp.logText()).doesNotContain("PRIVATE KEY");

            cp.terminate();

            assertThat(cp.awaitExit(Duration.ofSeconds(20))).as(cp.logText()).isZero();
            assertThat(cp.logText()).contains("received SIGTERM; closing").contains("outrider control-plane stopped");
            cp.assertNoLeaks();
        }
        // The store's directory lock went with the process: it opens again.
        FileStore.open(dataDir.resolve("store")).close();
    }

    @Test
    void restartKeepsTheGeneratedSigningKey() throws Exception {
        String first;
        try (ControlPlaneProcess cp = ControlPlaneProcess.start(dir.resolve("1.log"), args("--listen", "127.0.0.1:0"))) {
            first = ApiClient.of(mesh.trusting(), cp.address()).get("/v1/snapshot-keys").body();
            cp.terminate();
            assertThat(cp.awaitExit(Duration.ofSeconds(20))).isZero();
        }
        try (ControlPlaneProcess cp = ControlPlaneProcess.start(dir.resolve("2.log"), args("--listen", "127.0.0.1:0"))) {
            assertThat(ApiClient.of(mesh.trusting(), cp.address()).get("/v1/snapshot-keys").body()).isEqualTo(first);
        }
    }

    @Test
    void badFilesExit2NamingTheOption() throws Exception {
        Path missing = dir.resolve("missing-key.pem");
        try (ControlPlaneProcess cp = ControlPlaneProcess.launch(dir.resolve("bad.log"),
                List.of("--data-dir", dataDir.toString(), "--ca-cert", mesh.caCertFile().toString(),
                        "--ca-key", missing.toString(), "--listen", "127.0.0.1:0"))) {
            assertThat(cp.awaitExit(Duration.ofSeconds(20))).isEqualTo(2);
            assertThat(cp.logText()).contains("outrider control-plane: --ca-cert/--ca-key: cannot read " + missing);
        }
        try (ControlPlaneProcess cp = ControlPlaneProcess.launch(dir.resolve("name.log"),
                args("--listen", "127.0.0.1:0", "--server-name", "bad_name"))) {
            assertThat(cp.awaitExit(Duration.ofSeconds(20))).isEqualTo(2);
            assertThat(cp.logText()).contains("outrider control-plane: --server-name: server name 'bad_name'");
        }
        Path noJwks = dir.resolve("jwks.json");
        try (ControlPlaneProcess cp = ControlPlaneProcess.launch(dir.resolve("k8s.log"), args("--listen", "127.0.0.1:0",
                "--k8s-issuer", "https://kubernetes.default.svc.cluster.local", "--k8s-jwks", noJwks.toString()))) {
            assertThat(cp.awaitExit(Duration.ofSeconds(20))).isEqualTo(2);
            assertThat(cp.logText()).contains("outrider control-plane: --k8s-jwks: cannot read " + noJwks);
        }
        try (ControlPlaneProcess cp = ControlPlaneProcess.launch(dir.resolve("usage.log"),
                List.of("--data-dir", dataDir.toString()))) {
            assertThat(cp.awaitExit(Duration.ofSeconds(20))).isEqualTo(2);
            assertThat(cp.logText()).contains("Missing required options").contains("--ca-cert");
        }
    }

    @Test
    void portInUseExits1NamingTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"));
             ControlPlaneProcess cp = ControlPlaneProcess.launch(dir.resolve("port.log"),
                     args("--listen", "127.0.0.1:" + taken.getLocalPort()))) {
            assertThat(cp.awaitExit(Duration.ofSeconds(20))).isEqualTo(1);
            assertThat(cp.logText()).contains("outrider control-plane: --listen: cannot listen on /127.0.0.1:"
                    + taken.getLocalPort());
        }
    }
}
