package dev.outrider.tools.demo;

import com.sun.net.httpserver.HttpServer;
import dev.outrider.core.client.JoinToken;
import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapConfig;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.tools.ctl.CtlCommand;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The demo's mesh: what {@link DemoCommand} starts, drives and stops. Ports are fixed (as in the examples) so
 * the printed curl and ctl lines work; a port in use fails the start with its address named.
 */
final class DemoMesh implements AutoCloseable {
    private static final String APP = "127.0.0.1:8080";
    private static final String ISSUER = "127.0.0.1:8090";
    private static final String A_OUTBOUND = "127.0.0.1:15001";
    private static final int A_UPSTREAM_PORT = 9001;

    private final Path examples;
    private final Path work;
    private final Path caCertificate;
    private final Path caKey;
    private final PrintWriter out;
    private final List<AutoCloseable> open = new ArrayList<>();
    private DemoControlPlane controlPlane;
    private DemoIssuer issuer;
    private Sidecar sidecarA;
    private Sidecar sidecarB;
    private boolean closed;
    /** Guarded by this: keep the work directory (logs) on close, after something went wrong. */
    private boolean keepFiles;

    DemoMesh(Path examples, Path work, Path caCertificate, Path caKey, PrintWriter out) {
        this.examples = examples;
        this.work = work;
        this.caCertificate = caCertificate;
        this.caKey = caKey;
        this.out = out;
    }

    /** Control plane, configuration through the API, the echo app and both sidecars, each ready. */
    void start(Path controlPlaneJar) throws Exception {
        controlPlane = DemoControlPlane.start(controlPlaneJar, work, caCertificate, caKey);
        open.add(controlPlane);
        out.println("control plane  https://" + DemoControlPlane.ADDRESS + "  (its own process)");
        out.println("logs           " + work + "/{control-plane,sidecars}.log");
        issuer = DemoIssuer.start(address(ISSUER));
        open.add(issuer);
        Path generated = work.resolve("orders-jwt.yaml");
        Files.writeString(generated, issuer.requestAuthentication());
        out.println();
        out.println("$ outrider ctl apply -f examples/mesh/services.yaml -f examples/policies/ -f orders-jwt.yaml");
        int applied = ctl("apply", "-f", examples.resolve("mesh/services.yaml").toString(),
                "-f", examples.resolve("policies/orders.yaml").toString(),
                "-f", examples.resolve("policies/orders-limits.yaml").toString(), "-f", generated.toString());
        if (applied != 0) {
            throw new IOException("outrider ctl apply failed (exit " + applied + ")");
        }
        HttpServer app = echoApp(address(APP));
        open.add(() -> app.stop(0));
        sidecarB = Sidecar.start(sidecarConfig("orders", """
                inbound: {listen: 127.0.0.1:15006, application: %s}
                outbound: {listen: 127.0.0.1:15101}
                health: {listen: 127.0.0.1:15021}
                admin: {listen: 127.0.0.1:15000}
                """.formatted(APP)));
        open.add(sidecarB);
        sidecarA = Sidecar.start(sidecarConfig("frontend", """
                inbound: {listen: 127.0.0.1:15106, application: 127.0.0.1:8081}
                outbound:
                  listen: %s
                  upstreams: [{service: orders, port: %d}]
                health: {listen: 127.0.0.1:15121}
                admin: {listen: 127.0.0.1:15100}
                """.formatted(A_OUTBOUND, A_UPSTREAM_PORT)));
        open.add(sidecarA);
        out.println();
        out.println("echo app       " + APP + "  (orders)");
        out.println("sidecar B      inbound 127.0.0.1:15006 -> app       shop/orders, certificate from the control plane");
        out.println("sidecar A      outbound " + A_OUTBOUND + ", port " + A_UPSTREAM_PORT
                + " -> orders   shop/frontend, orders' address from its snapshot");
        out.println();
        out.flush();
        awaitRoute();
    }

    /** A sidecar config for shop/{@code service} with its certificate, join token and cache in the work directory. */
    private BootstrapConfig sidecarConfig(String service, String listeners) throws IOException {
        Path dir = work.resolve(service);
        Files.createDirectories(dir);
        Files.copy(caCertificate, dir.resolve("ca-bundle.pem"));
        JoinToken token = controlPlane.admin().createJoinToken("shop", service, Duration.ofMinutes(10));
        Path tokenFile = dir.resolve("join-token");
        Files.createFile(tokenFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tokenFile, token.token());
        String yaml = """
                node: {service: %s, namespace: shop}
                %s
                tls:
                  certificate: %s
                  privateKey: %s
                  trustBundle: %s
                controlPlane:
                  address: %s
                  snapshotKeys: %s
                  joinToken: %s
                  cacheDirectory: %s
                accessLog: {enabled: false}
                securityEvents: {enabled: false}
                """.formatted(service, listeners, dir.resolve("cert.pem"), dir.resolve("key.pem"),
                dir.resolve("ca-bundle.pem"), DemoControlPlane.ADDRESS,
                work.resolve("control-plane/snapshot-keys.json"), tokenFile, dir.resolve("cache"));
        Path file = dir.resolve("sidecar.yaml");
        Files.writeString(file, yaml);
        return BootstrapLoader.load(file);
    }

    /** Sidecar A learns orders' instance once B registered and A's next snapshot arrived; waits for that. */
    private void awaitRoute() throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int status = -1;
        while (System.nanoTime() < deadline) {
            status = client.send(get("/hello").build(), HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status == 200) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IOException("orders was not reachable through sidecar A within 20 s (last status " + status + ")");
    }

    /** The requests and their outcomes as a table; false when one is not what the policies say. */
    boolean drive() throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        out.println("# frontend calls orders through sidecar A (" + A_OUTBOUND + ", Host: orders.shop)");
        out.println("# policies: frontend may GET/POST /hello and /api/*; nobody may call /admin;");
        out.println("#           tokens from " + DemoIssuer.ISSUER + " are checked; POST /api/* 5/s per caller");
        out.println();
        out.printf("  %-38s %-9s %-20s %s%n", "request", "expected", "got", "answer");
        boolean ok = row(client, "GET /hello", get("/hello"), 200, "allowed");
        ok &= row(client, "GET /hello  (Bearer: valid token)",
                get("/hello").header("Authorization", "Bearer " + issuer.token("alice")), 200, "allowed");
        ok &= row(client, "GET /admin", get("/admin"), 403, "denied");
        ok &= row(client, "DELETE /hello", get("/hello").DELETE(), 403, "denied");
        ok &= row(client, "GET /hello  (Bearer: forged token)",
                get("/hello").header("Authorization", "Bearer " + issuer.forged("mallory")), 401,
                "unauthenticated");
        ok &= burst(client, () -> get("/api/orders").POST(HttpRequest.BodyPublishers.ofString("{}")), 12);
        out.println();
        out.flush();
        return ok;
    }

    void printNextSteps() {
        List<String> o = controlPlane.ctlOptions();
        out.println("Next:");
        out.println("  curl -s http://" + A_OUTBOUND + "/hello -H 'Host: orders.shop'");
        out.println("  curl -s http://127.0.0.1:15000/metrics | grep -E 'outrider_(requests|authz|ratelimit)'");
        out.println("  curl -s http://127.0.0.1:15000/config          # the snapshot in force");
        out.println("  export OUTRIDER_SERVER=" + o.get(1) + " OUTRIDER_CA=" + o.get(3) + " OUTRIDER_TOKEN_FILE=" + o.get(5));
        out.println("  ./outrider ctl status                           # sidecars, versions applied, ACK/NACK");
        out.println("  ./outrider ctl get ap -n shop -o yaml");
        out.println("  ./outrider ctl explain --workload orders --namespace shop --path /admin \\");
        out.println("      --source spiffe://cluster.local/ns/shop/sa/frontend");
        out.flush();
    }

    private HttpRequest.Builder get(String path) {
        return HttpRequest.newBuilder(URI.create("http://" + A_OUTBOUND + path)).header("Host", "orders.shop")
                .timeout(Duration.ofSeconds(5));
    }

    private boolean row(HttpClient client, String title, HttpRequest.Builder request, int expected, String what) {
        String got;
        String answer;
        int status;
        try {
            HttpResponse<String> r = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            status = r.statusCode();
            got = status + " " + (status == expected ? what : "UNEXPECTED");
            answer = r.body().strip().lines().findFirst().orElse("");
        } catch (IOException | InterruptedException e) {
            status = -1;
            got = "failed";
            answer = e.toString();
        }
        out.printf("  %-38s %-9s %-20s %s%n", title, expected, got, answer.length() > 72
                ? answer.substring(0, 69) + "..." : answer);
        out.flush();
        return status == expected;
    }

    /** {@code n} requests back to back: the first admitted, the rest over the burst throttled (429). */
    private boolean burst(HttpClient client, Supplier<HttpRequest.Builder> request, int n) {
        TreeMap<Integer, Integer> statuses = new TreeMap<>();
        HttpResponse<String> refusal = null;
        int first = 0;
        try {
            for (int i = 0; i < n; i++) {
                HttpResponse<String> r = client.send(request.get().build(), HttpResponse.BodyHandlers.ofString());
                statuses.merge(r.statusCode(), 1, Integer::sum);
                first = i == 0 ? r.statusCode() : first;
                if (r.statusCode() == 429 && refusal == null) {
                    refusal = r;
                }
            }
        } catch (IOException | InterruptedException e) {
            out.printf("  %-38s %-9s %-20s %s%n", "POST /api/orders  x" + n, "429", "failed", e);
            return false;
        }
        StringBuilder counts = new StringBuilder();
        statuses.forEach((status, count) -> counts.append(counts.isEmpty() ? "" : ", ").append(count).append(" x ")
                .append(status));
        boolean ok = first == 200 && refusal != null;
        out.printf("  %-38s %-9s %-20s %s%n", "POST /api/orders  x" + n + " in a row", "200, 429",
                ok ? "throttled" : "UNEXPECTED", counts);
        if (refusal != null) {
            for (String h : List.of("retry-after", "ratelimit-policy", "ratelimit")) {
                HttpResponse<String> r = refusal;
                r.headers().firstValue(h).ifPresent(v -> out.printf("  %-38s %-9s %-20s %s: %s%n", "", "", "", h, v));
            }
        }
        return ok;
    }

    /** Runs {@code outrider ctl ARGS} against the demo's control plane, printing what it prints. */
    private int ctl(String... args) {
        List<String> all = new ArrayList<>(List.of("ctl"));
        all.addAll(List.of(args));
        all.addAll(controlPlane.ctlOptions());
        StringWriter buffer = new StringWriter();
        // Under a parent named outrider, as the tools' root command mounts it: usage lines read "outrider ctl ...".
        CommandLine cli = new CommandLine(CommandSpec.create().name("outrider")).addSubcommand(new CtlCommand());
        cli.setOut(new PrintWriter(buffer, true));
        cli.setErr(new PrintWriter(buffer, true));
        int code = cli.execute(all.toArray(String[]::new));
        buffer.toString().lines().forEach(l -> out.println("  " + l));
        out.flush();
        return code;
    }

    private static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    /** The application behind sidecar B: echoes what it received, including the forwarding headers. */
    private static HttpServer echoApp(InetSocketAddress address) throws IOException {
        HttpServer server;
        try {
            server = HttpServer.create(address, 0);
        } catch (IOException e) {
            throw new IOException("cannot start the echo application on " + address + ": " + e.getMessage(), e);
        }
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "demo-echo-app");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", ex -> {
            long bodyLength = ex.getRequestBody().transferTo(OutputStream.nullOutputStream());
            String caller = ex.getRequestHeaders().getFirst("X-forwarded-client-cert");
            String by = caller == null ? "" : caller.replaceAll(".*URI=([^;,]*).*", "$1")
                    .replaceFirst("^spiffe://[^/]+/ns/([^/]+)/sa/(.+)$", "$1/$2");
            byte[] body = ("orders saw " + ex.getRequestMethod() + " " + ex.getRequestURI().getPath()
                    + (by.isEmpty() ? "" : " from " + by) + " (" + bodyLength + " B)\n")
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        return server;
    }

    /** Keep the work directory and its logs when closing. */
    synchronized void keepFiles() {
        keepFiles = true;
    }

    /** Stops everything started, newest first, and removes the work directory (unless kept); idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                out.println("stopping: " + e);
            }
        }
        if (keepFiles) {
            out.flush();
            return;
        }
        try (Stream<Path> files = Files.walk(work)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            out.println("could not remove " + work + ": " + e.getMessage());
        }
        out.flush();
    }
}
