package dev.outrider.e2e;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The egress allow-list with every part its own process: {@code outrider ctl apply} of a ServiceEntry to the
 * control plane, the calling sidecar's snapshot carrying it, and the sidecar's outbound listener forwarding to the
 * declared "external" server (plain HTTP on loopback, resolved by DNS as {@code localhost}) while refusing an
 * undeclared host with 403; {@code ctl get se} lists it; after {@code ctl delete} it is no longer forwarded.
 */
class EgressEndToEndTest {
    @TempDir
    Path dir;
    private final Started started = new Started();

    @AfterEach
    void stop() throws Exception {
        started.closeAndCheckLeaks();
    }

    @Test
    void anAppliedServiceEntryOpensItsHostAndDeletingItClosesIt() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), MeshProcess.freePort(), ca));
        Backend external = started.keep(Backend.start());
        Path file = dir.resolve("egress.yaml");
        Files.writeString(file, """
                apiVersion: outrider.dev/v1
                kind: Service
                metadata: {name: frontend, namespace: shop}
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: local-api, namespace: shop}
                spec:
                  hosts: [localhost]
                  ports: [{number: %d, name: http, protocol: HTTP}]
                  resolution: DNS
                """.formatted(external.port()));
        Ctl applied = Ctl.run(dir, cp, "apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.output()).isZero();

        SidecarProcess.Ports ports = SidecarProcess.Ports.free();
        started.keep(SidecarProcess.start(dir.resolve("a"), "frontend", 1, ports, null, cp, cp.joinToken("frontend")))
                .awaitReady(200);
        String host = "localhost:" + external.port();
        String allowed = awaitStatus(ports.outbound(), host, "/hello", "200");
        assertThat(allowed).endsWith("ok /hello\n");
        String refused = get(ports.outbound(), "www.example.com", "/");
        assertThat(refused).startsWith("HTTP/1.1 403").contains("not in the egress allow-list");

        Ctl listed = Ctl.run(dir, cp, "get", "se", "-n", "shop");
        assertThat(listed.exitCode()).as(listed.output()).isZero();
        assertThat(listed.output()).contains("local-api").contains("localhost").contains("DNS");

        Ctl deleted = Ctl.run(dir, cp, "delete", "se", "local-api", "-n", "shop");
        assertThat(deleted.exitCode()).as(deleted.output()).isZero();
        // Undeclared again: "localhost" is a single label, a mesh service's form, so it gets the mesh's 404.
        assertThat(awaitStatus(ports.outbound(), host, "/after", "404")).contains("no route to service 'localhost.shop'");
    }

    /** The answer once its status line is {@code status} (the sidecar applies snapshots as they come). */
    private static String awaitStatus(int port, String host, String path, String status) throws Exception {
        String last = "";
        for (int i = 0; i < 200; i++) {
            last = get(port, host, path);
            if (last.startsWith("HTTP/1.1 " + status)) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no " + status + " for " + host + path + "; last answer: " + last);
    }

    /** One HTTP/1.1 request with this Host, as the application would send it to its sidecar; the whole answer. */
    private static String get(int port, String host, String path) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
