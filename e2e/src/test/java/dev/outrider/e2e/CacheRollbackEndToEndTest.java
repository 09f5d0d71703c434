package dev.outrider.e2e;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rollback through the last-known-good cache, as an attacker who can write the cache file would try it: a real
 * control plane and two real sidecars as processes; policy v1 allows {@code /v1-only}, v2 (the same policy,
 * replaced) does not; the control plane is killed; the saved, genuinely signed v1 cache file is copied over the
 * cache of B and B restarted. B must not enforce v1: it refuses the cache (the version floor), fails closed
 * (inbound 503, {@code /ready} 503 naming the reason), also when the floor file was deleted as well, and serves v2
 * again once the control plane is back.
 */
class CacheRollbackEndToEndTest {
    private static final String POLICY = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-allow-frontend, namespace: shop}
            spec:
              selector: {matchLabels: {app: orders}}
              action: ALLOW
              rules:
                - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                  to: [{operation: {methods: ["GET"], paths: [%s]}}]
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
    void anOlderSignedSnapshotCopiedOverTheCacheIsNotEnforced() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        int cpPort = MeshProcess.freePort();
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), cpPort, ca));
        apply(cp, "services.yaml", MeshEndToEndTest.SERVICES);

        Backend backend = started.keep(Backend.start());
        SidecarProcess.Ports portsB = SidecarProcess.Ports.free();
        SidecarProcess.Ports portsA = SidecarProcess.Ports.free();
        String tokenB = cp.joinToken("orders");
        String tokenA = cp.joinToken("frontend");
        SidecarProcess b = started.keep(SidecarProcess.start(dir.resolve("b"), "orders", backend.port(), portsB, null,
                cp, tokenB)).awaitReady(200);
        SidecarProcess a = started.keep(SidecarProcess.start(dir.resolve("a"), "frontend", 1, portsA, "orders", cp,
                tokenA)).awaitReady(200);
        Path cache = dir.resolve("b/cache/snapshot.jws");

        // v1 allows /v1-only; B applies it and keeps it as last-known-good.
        apply(cp, "v1.yaml", POLICY.formatted("\"/hello\", \"/v1-only\""));
        a.awaitUpstreamStatus(http, "/v1-only", 200);
        byte[] v1 = awaitCache(cache, true);

        // v2 replaces it and no longer allows /v1-only; B's cache now holds v2.
        apply(cp, "v2.yaml", POLICY.formatted("\"/hello\""));
        a.awaitUpstreamStatus(http, "/v1-only", 403);
        awaitCache(cache, false);
        assertThat(a.upstreamStatus(http, "/hello")).isEqualTo(200);

        // The control plane goes away; the genuinely signed v1 file is copied over the cache; B restarts.
        cp.kill();
        b.close();
        Files.write(cache, v1);
        b = started.keep(SidecarProcess.start(dir.resolve("b"), "orders", backend.port(), portsB, null, cp, null));
        HttpResponse<String> ready = awaitCacheDecision(b);
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
        assertThat(ready.body()).contains("last-known-good snapshot refused").contains("floor");
        for (int i = 0; i < 5; i++) {
            assertThat(a.upstreamStatus(http, "/v1-only")).as("v1's rule must not be enforced again").isEqualTo(503);
            assertThat(a.upstreamStatus(http, "/hello")).as("fail closed without a snapshot").isEqualTo(503);
        }
        assertThat(b.logText()).contains("refused");

        // Deleting the floor file as well does not help: a cache without its floor is refused too.
        b.close();
        Files.delete(dir.resolve("b/cache/snapshot.jws.floor"));
        b = started.keep(SidecarProcess.start(dir.resolve("b"), "orders", backend.port(), portsB, null, cp, null));
        ready = awaitCacheDecision(b);
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
        assertThat(ready.body()).contains("last-known-good snapshot refused").contains("floor");
        assertThat(a.upstreamStatus(http, "/v1-only")).isEqualTo(503);

        // The control plane comes back: B takes the current policy (v2 or newer) and serves it.
        cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), cpPort, ca));
        b.awaitReady(200);
        a.awaitUpstreamStatus(http, "/hello", 200);
        assertThat(a.upstreamStatus(http, "/v1-only")).isEqualTo(403);
        awaitCache(cache, false);
    }

    private void apply(ControlPlaneProcess cp, String file, String yaml) throws Exception {
        Files.writeString(dir.resolve(file), yaml);
        Ctl applied = Ctl.run(dir, cp, "apply", "-f", dir.resolve(file).toString());
        assertThat(applied.exitCode()).as(applied.output()).isZero();
    }

    /**
     * Waits until the cache file exists and its (signed) payload allows {@code /v1-only} or not, as asked; returns
     * the file's bytes. The file is written right after the snapshot is applied, so this is a short wait.
     */
    private static byte[] awaitCache(Path cache, boolean withV1Rule) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (Files.exists(cache)) {
                byte[] bytes = Files.readAllBytes(cache);
                String[] parts = new String(bytes, StandardCharsets.US_ASCII).strip().split("\\.");
                if (parts.length == 3) {
                    String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
                    if (payload.contains("/v1-only") == withV1Rule && payload.contains("orders-allow-frontend")) {
                        return bytes;
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("cache " + cache + " did not " + (withV1Rule ? "" : "stop to ")
                + "hold the v1 rule within 30 s");
    }

    /** /ready once the sidecar has decided about its cache (before that it says it is not watching yet). */
    private static HttpResponse<String> awaitCacheDecision(SidecarProcess b) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        HttpResponse<String> last = null;
        while (System.nanoTime() < deadline) {
            if (!b.isAlive()) {
                throw new IllegalStateException("sidecar exited:\n" + b.logText());
            }
            last = b.ready();
            if (last != null && !last.body().contains("not watching the control plane yet")) {
                return last;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("sidecar did not decide about its cache within 40 s (last: "
                + (last == null ? "no answer" : last.statusCode() + " " + last.body()) + ")\n" + b.logText());
    }
}
