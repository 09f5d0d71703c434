package dev.outrider.e2e;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The mesh as an operator runs it, every part its own process on loopback: the control plane, the sidecars of
 * shop/orders (B, in front of a real backend) and shop/frontend (A, calling orders on its upstream port), and
 * {@code outrider ctl}. Policies applied with ctl are enforced; the sidecars keep enforcing while the control
 * plane is away (killed with -9), also across their own restart (last-known-good); a tampered cache is refused.
 */
class MeshEndToEndTest {
    private static final String ALLOW_FRONTEND = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-allow-frontend, namespace: shop}
            spec:
              selector: {matchLabels: {app: orders}}
              action: ALLOW
              rules:
                - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                  to: [{operation: {methods: ["GET"], paths: ["/hello"]}}]
            """;
    static final String SERVICES = """
            apiVersion: outrider.dev/v1
            kind: Service
            metadata: {name: orders, namespace: shop}
            ---
            apiVersion: outrider.dev/v1
            kind: Service
            metadata: {name: frontend, namespace: shop}
            """;

    @TempDir
    Path dir;
    private final Started started = new Started();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void stop() throws Exception {
        started.closeAndCheckLeaks();
        http.close();
    }

    @Test
    void policiesAppliedWithCtlAreEnforcedAndOutliveTheControlPlane() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        int cpPort = MeshProcess.freePort();
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), cpPort, ca));
        Files.writeString(dir.resolve("services.yaml"), SERVICES);
        Ctl applied = Ctl.run(dir, cp, "apply", "-f", dir.resolve("services.yaml").toString());
        assertThat(applied.exitCode()).as(applied.output()).isZero();

        Backend backend = started.keep(Backend.start());
        SidecarProcess.Ports portsB = SidecarProcess.Ports.free();
        SidecarProcess.Ports portsA = SidecarProcess.Ports.free();
        String tokenB = cp.joinToken("orders");
        String tokenA = cp.joinToken("frontend");
        SidecarProcess b = started.keep(SidecarProcess.start(dir.resolve("b"), "orders", backend.port(), portsB, null, cp,
                tokenB)).awaitReady(200);
        SidecarProcess a = started.keep(SidecarProcess.start(dir.resolve("a"), "frontend", 1, portsA, "orders", cp, tokenA))
                .awaitReady(200);

        // No policy yet: B's default is deny, once A has B's endpoint from its snapshot.
        a.awaitUpstreamStatus(http, "/hello", 403);

        Files.writeString(dir.resolve("allow.yaml"), ALLOW_FRONTEND);
        Ctl allow = Ctl.run(dir, cp, "apply", "-f", dir.resolve("allow.yaml").toString());
        assertThat(allow.exitCode()).as(allow.output()).isZero();
        assertThat(allow.output()).contains("shop/orders-allow-frontend");
        a.awaitUpstreamStatus(http, "/hello", 200);
        assertThat(a.upstreamStatus(http, "/admin")).isEqualTo(403);

        Ctl status = Ctl.run(dir, cp, "status");
        assertThat(status.exitCode()).as(status.output()).isZero();
        assertThat(status.output()).contains("orders-" + portsB.inbound()).contains("frontend-" + portsA.inbound())
                .contains("ACK");

        // The control plane dies: both sidecars keep enforcing what they have.
        cp.kill();
        for (int i = 0; i < 20; i++) {
            assertThat(a.upstreamStatus(http, "/hello")).isEqualTo(200);
            assertThat(a.upstreamStatus(http, "/admin")).isEqualTo(403);
        }

        // B restarts while the control plane is down: its last-known-good snapshot is verified and enforced.
        b.close();
        b = started.keep(SidecarProcess.start(dir.resolve("b"), "orders", backend.port(), portsB, null, cp, null))
                .awaitReady(200);
        a.awaitUpstreamStatus(http, "/hello", 200);
        assertThat(a.upstreamStatus(http, "/admin")).isEqualTo(403);
        assertThat(b.logText()).contains("applied snapshot");

        // A tampered cache is refused: B starts without policies it can trust and refuses everything.
        b.close();
        Path cache = dir.resolve("b/cache/snapshot.jws");
        String jws = Files.readString(cache, StandardCharsets.US_ASCII);
        String[] parts = jws.strip().split("\\.");
        String payload = new String(java.util.Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
        String forged = payload.replace("\\\"GET\\\"", "\\\"DELETE\\\"");
        assertThat(forged).isNotEqualTo(payload);
        Files.writeString(cache, parts[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString(forged.getBytes(StandardCharsets.UTF_8)) + "." + parts[2]);
        b = started.keep(SidecarProcess.start(dir.resolve("b"), "orders", backend.port(), portsB, null, cp, null));
        b.awaitReady(503);
        assertThat(b.ready().body()).contains("no policy snapshot");
        a.awaitUpstreamStatus(http, "/hello", 503);
        assertThat(b.logText()).containsIgnoringCase("signature");

        // The control plane comes back on the same address: B gets a fresh snapshot and serves again.
        cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), cpPort, ca));
        b.awaitReady(200);
        a.awaitUpstreamStatus(http, "/hello", 200);
        assertThat(a.upstreamStatus(http, "/admin")).isEqualTo(403);
    }
}
