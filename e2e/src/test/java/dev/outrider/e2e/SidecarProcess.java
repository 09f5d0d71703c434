package dev.outrider.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A sidecar process configured from the control plane: {@code outrider proxy --config} with a
 * {@code controlPlane} block, its certificate files, join token (or a Kubernetes service-account token file) and
 * last-known-good cache in {@code dir}.
 * Ports are chosen once, so a restart keeps the address other sidecars were told.
 */
final class SidecarProcess extends MeshProcess {
    static final String MAIN = "dev.outrider.proxy.SidecarMain";

    final Ports ports;
    final Path dir;

    record Ports(int inbound, int outbound, int upstream, int health, int admin) {
        static Ports free() throws IOException {
            return new Ports(freePort(), freePort(), freePort(), freePort(), freePort());
        }
    }

    private SidecarProcess(MeshProcess p, Ports ports, Path dir) {
        super(p.process, p.log);
        this.ports = ports;
        this.dir = dir;
    }

    /**
     * Starts shop/{@code service} in front of the application on {@code appPort}; {@code upstreamService}, when
     * not null, is reachable on the sidecar's upstream port. Does not wait for /ready.
     */
    static SidecarProcess start(Path dir, String service, int appPort, Ports ports, String upstreamService,
                                ControlPlaneProcess cp, String joinToken) throws IOException {
        Files.createDirectories(dir);
        if (joinToken != null) {
            Files.writeString(dir.resolve("join-token"), joinToken);
        }
        return start(dir, service, appPort, ports, upstreamService, List.of(cp), "joinToken", dir.resolve("join-token"),
                "");
    }

    /**
     * As {@link #start}, knowing several control-plane replicas ({@code controlPlane.address} a list, in this order:
     * the sidecar starts with the first and fails over to the next).
     */
    static SidecarProcess startWithReplicas(Path dir, String service, int appPort, Ports ports, String upstreamService,
                                            List<ControlPlaneProcess> replicas, String joinToken) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("join-token"), joinToken);
        return start(dir, service, appPort, ports, upstreamService, replicas, "joinToken", dir.resolve("join-token"),
                "");
    }

    /**
     * As {@link #start}, with {@code extraYaml} (top-level sections such as {@code runtime:}) added to the config;
     * an {@code accessLog:} section there replaces the default (off).
     */
    static SidecarProcess start(Path dir, String service, int appPort, Ports ports, String upstreamService,
                                ControlPlaneProcess cp, String joinToken, String extraYaml) throws IOException {
        Files.createDirectories(dir);
        if (joinToken != null) {
            Files.writeString(dir.resolve("join-token"), joinToken);
        }
        return start(dir, service, appPort, ports, upstreamService, List.of(cp), "joinToken", dir.resolve("join-token"),
                extraYaml);
    }

    /** As {@link #start}, bootstrapping with the Kubernetes service-account token in {@code tokenFile} instead. */
    static SidecarProcess startWithServiceAccountToken(Path dir, String service, int appPort, Ports ports,
                                                       String upstreamService, ControlPlaneProcess cp, Path tokenFile)
            throws IOException {
        return start(dir, service, appPort, ports, upstreamService, List.of(cp), "serviceAccountToken", tokenFile, "");
    }

    /**
     * {@code credentialField} is {@code joinToken} or {@code serviceAccountToken}, naming {@code credentialFile};
     * {@code replicas} share one CA and signing key (the first one's are used).
     */
    private static SidecarProcess start(Path dir, String service, int appPort, Ports ports, String upstreamService,
                                        List<ControlPlaneProcess> replicas, String credentialField, Path credentialFile,
                                        String extraYaml) throws IOException {
        Files.createDirectories(dir);
        ControlPlaneProcess cp = replicas.getFirst();
        String addresses = replicas.size() == 1 ? "127.0.0.1:" + cp.port
                : "[" + String.join(", ", replicas.stream().map(r -> "127.0.0.1:" + r.port).toList()) + "]";
        if (!Files.exists(dir.resolve("ca-bundle.pem"))) {
            Files.copy(cp.ca.certificate(), dir.resolve("ca-bundle.pem"));
        }
        String upstreams = upstreamService == null ? "[]"
                : "[{service: " + upstreamService + ", port: " + ports.upstream() + "}]";
        Path config = dir.resolve("sidecar.yaml");
        Files.writeString(config, """
                node: {service: %s, namespace: shop}
                inbound: {listen: 127.0.0.1:%d, application: 127.0.0.1:%d}
                outbound: {listen: 127.0.0.1:%d, upstreams: %s}
                health: {listen: 127.0.0.1:%d}
                admin: {listen: 127.0.0.1:%d}
                %s
                tls:
                  certificate: %s
                  privateKey: %s
                  trustBundle: %s
                  reloadInterval: 1s
                controlPlane:
                  address: %s
                  snapshotKeys: %s
                  %s: %s
                  cacheDirectory: %s
                  instance: %s-%d
                  watchTimeout: 5s
                  bootstrapTimeout: 30s
                %s
                """.formatted(service, ports.inbound(), appPort, ports.outbound(), upstreams, ports.health(),
                ports.admin(), extraYaml.contains("accessLog:") ? "" : "accessLog: {enabled: false}",
                dir.resolve("cert.pem"), dir.resolve("key.pem"), dir.resolve("ca-bundle.pem"),
                addresses, cp.snapshotKeys(), credentialField, credentialFile, dir.resolve("cache"), service,
                ports.inbound(), extraYaml));
        Path log = dir.resolve("sidecar-" + System.nanoTime() + ".log");
        return new SidecarProcess(MeshProcess.start(log, MAIN, List.of("proxy", "--config", config.toString())),
                ports, dir);
    }

    /** GET /ready: status and body, or -1 when the health port does not answer. */
    HttpResponse<String> ready() {
        return get("http://127.0.0.1:" + ports.health() + "/ready");
    }

    int readyStatus() {
        HttpResponse<String> r = ready();
        return r == null ? -1 : r.statusCode();
    }

    /** Waits until /ready answers {@code status} (200: a snapshot is in force). */
    SidecarProcess awaitReady(int status) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (System.nanoTime() < deadline) {
            if (!isAlive()) {
                throw new IllegalStateException("sidecar exited with " + process.exitValue() + ":\n" + logText());
            }
            if (readyStatus() == status) {
                return this;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("sidecar /ready not " + status + " within 40 s (last: "
                + (ready() == null ? "no answer" : ready().statusCode() + " " + ready().body()) + "):\n" + logText());
    }

    /** The value of the unlabelled sample {@code name} on the admin port's /metrics; NaN when absent. */
    double metric(String name) {
        HttpResponse<String> r = get("http://127.0.0.1:" + ports.admin() + "/metrics");
        if (r == null) {
            return Double.NaN;
        }
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).strip());
            }
        }
        return Double.NaN;
    }

    /** The admin port's /config (JSON text). */
    String config() {
        HttpResponse<String> r = get("http://127.0.0.1:" + ports.admin() + "/config");
        return r == null ? "" : r.body();
    }

    String upstreamUrl(String path) {
        return "http://127.0.0.1:" + ports.upstream() + path;
    }

    /** The status of {@code GET path} through this sidecar's upstream port (as its application would call). */
    int upstreamStatus(HttpClient http, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(upstreamUrl(path)))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode();
    }

    /** Polls until {@code GET path} through this sidecar answers {@code expected} (snapshots take a moment). */
    void awaitUpstreamStatus(HttpClient http, String path, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = upstreamStatus(http, path);
            if (last == expected) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("GET " + path + " answered " + last + ", not " + expected + ", for 30 s\n--- sidecar log:\n"
                + logText());
    }

    private static HttpResponse<String> get(String url) {
        try (HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()) {
            return c.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
