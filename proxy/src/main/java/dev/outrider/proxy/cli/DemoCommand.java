package dev.outrider.proxy.cli;

import com.sun.net.httpserver.HttpServer;
import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapConfig;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.proxy.config.ConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * {@code outrider demo}: the example pair on loopback in one process. An echo application on
 * 127.0.0.1:8080, sidecar B in front of it ({@code examples/sidecar-b.yaml}), sidecar A next to the caller
 * ({@code examples/sidecar-a.yaml}); then requests through A's outbound listener, by Host header and by
 * upstream port, with what the application saw. Stays up for curl until Ctrl-C unless {@code --once}.
 * When the control plane arrives, the demo starts it too and takes configuration from it.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the example sidecar pair and an echo application on loopback, and call through them.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--examples", defaultValue = "examples", paramLabel = "DIR",
            description = "Directory with sidecar-a.yaml and sidecar-b.yaml (default: ${DEFAULT-VALUE}).")
    private Path examples;

    @Option(names = "--once", description = "Exit after the demo requests instead of staying up for curl.")
    private boolean once;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // The JDK client refuses to set Host unless allowed; the demo routes by Host, as applications do.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BootstrapConfig a;
        BootstrapConfig b;
        try {
            a = BootstrapLoader.load(examples.resolve("sidecar-a.yaml"));
            b = BootstrapLoader.load(examples.resolve("sidecar-b.yaml"));
        } catch (ConfigException e) {
            err.println("outrider demo: " + e.getMessage());
            return OutriderCommand.EXIT_USAGE;
        }
        if (!Files.isDirectory(examples)) {
            err.println("outrider demo: no examples directory at " + examples.toAbsolutePath());
            return OutriderCommand.EXIT_USAGE;
        }
        if (!ensureCertificates(a, b, err)) {
            return OutriderCommand.EXIT_FAILURE;
        }
        HttpServer app;
        try {
            app = echoApp(b.inbound().application().toAddress());
        } catch (IOException e) {
            err.println("outrider demo: cannot start the echo application on " + b.inbound().application()
                    + ": " + e.getMessage());
            return OutriderCommand.EXIT_FAILURE;
        }
        Sidecar sidecarB = null;
        Sidecar sidecarA = null;
        try {
            sidecarB = Sidecar.start(b);
            sidecarA = Sidecar.start(a);
            out.println("echo app    " + b.inbound().application());
            out.println("sidecar B   inbound " + b.inbound().listen() + " -> app   (orders.shop)");
            out.println("sidecar A   outbound " + a.outbound().listen() + ", upstream port "
                    + a.outbound().upstreams().getFirst().port() + " -> sidecar B   (frontend.shop)");
            out.println();
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            String outbound = "http://" + a.outbound().listen() + "/hello";
            String byPort = "http://" + a.outbound().listen().host() + ":" + a.outbound().upstreams().getFirst().port()
                    + "/hello";
            String admin = "http://" + a.outbound().listen() + "/admin";
            boolean ok = call(out, client, "GET " + outbound + "  (Host: orders.shop)",
                    HttpRequest.newBuilder(URI.create(outbound)).header("Host", "orders.shop"), 200);
            ok &= call(out, client, "GET " + byPort, HttpRequest.newBuilder(URI.create(byPort)), 200);
            ok &= call(out, client, "GET " + outbound + "  (Host: billing)",
                    HttpRequest.newBuilder(URI.create(outbound)).header("Host", "billing"), 404);
            out.println("# examples/policies: frontend may GET/POST /hello and /api/*; nobody may call /admin");
            out.println();
            ok &= call(out, client, "GET " + admin + "  (Host: orders.shop)",
                    HttpRequest.newBuilder(URI.create(admin)).header("Host", "orders.shop"), 403);
            ok &= call(out, client, "DELETE " + outbound + "  (Host: orders.shop)",
                    HttpRequest.newBuilder(URI.create(outbound)).header("Host", "orders.shop").DELETE(), 403);
            out.println("# examples/policies/orders-limits.yaml: each caller may POST to /api/* 5 times a second,"
                    + " 2 at once");
            out.println();
            String api = "http://" + a.outbound().listen() + "/api/orders";
            ok &= burst(out, client, "POST " + api + "  (Host: orders.shop), 12 times in a row",
                    () -> HttpRequest.newBuilder(URI.create(api)).header("Host", "orders.shop")
                            .POST(HttpRequest.BodyPublishers.ofString("{}")), 12);
            if (once) {
                return ok ? OutriderCommand.EXIT_OK : OutriderCommand.EXIT_FAILURE;
            }
            out.println("Try: curl -s " + outbound + " -H 'Host: orders.shop'");
            out.println("Metrics: curl -s http://" + a.admin() + "/metrics | grep outrider_requests");
            out.println("Ctrl-C drains both sidecars and exits.");
            out.flush();
            CountDownLatch stop = new CountDownLatch(1);
            Sidecar finalA = sidecarA;
            Sidecar finalB = sidecarB;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                finalA.close();
                finalB.close();
                stop.countDown();
            }, "outrider-demo-stop"));
            stop.await();
            return OutriderCommand.EXIT_OK;
        } finally {
            if (once) {
                if (sidecarA != null) {
                    sidecarA.close();
                }
                if (sidecarB != null) {
                    sidecarB.close();
                }
            }
            app.stop(0);
        }
    }

    /**
     * The example sidecars use mTLS with certificates from the development CA script; when they are not
     * there yet, {@code certs/mesh-ca.sh examples} makes them (a root CA and one certificate per sidecar).
     */
    private boolean ensureCertificates(BootstrapConfig a, BootstrapConfig b, PrintWriter err)
            throws IOException, InterruptedException {
        boolean missing = false;
        for (BootstrapConfig c : List.of(a, b)) {
            if (c.tls().enabled()) {
                for (Path p : List.of(c.tls().certificate(), c.tls().privateKey(), c.tls().trustBundle())) {
                    missing |= !Files.isRegularFile(p);
                }
            }
        }
        if (!missing) {
            return true;
        }
        Path script = examples.toAbsolutePath().getParent().resolve("certs/mesh-ca.sh");
        spec.commandLine().getOut().println("creating a development mesh CA and the example certificates ("
                + script + " examples)");
        spec.commandLine().getOut().flush();
        Process p = new ProcessBuilder("bash", script.toString(), "examples")
                .directory(examples.toAbsolutePath().getParent().toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (p.waitFor() != 0) {
            err.println("outrider demo: " + script + " examples failed (exit " + p.exitValue() + ")");
            return false;
        }
        return true;
    }

    /** Sends one request and prints the answer; false when it is not {@code expected}. */
    private static boolean call(PrintWriter out, HttpClient client, String title, HttpRequest.Builder request,
                                int expected) {
        out.println("$ " + title);
        try {
            HttpResponse<String> r = client.send(request.timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            out.println("  " + r.statusCode() + "  " + r.body().strip());
            out.println();
            out.flush();
            if (r.statusCode() != expected) {
                out.println("  unexpected: expected " + expected);
            }
            return r.statusCode() == expected;
        } catch (IOException | InterruptedException e) {
            out.println("  failed: " + e);
            out.flush();
            return false;
        }
    }

    /**
     * Sends {@code n} requests back to back and prints how many were answered with each status, and the
     * throttling fields of the first 429; false unless the first was admitted and some were throttled.
     */
    private static boolean burst(PrintWriter out, HttpClient client, String title,
                                 java.util.function.Supplier<HttpRequest.Builder> request, int n) {
        out.println("$ " + title);
        TreeMap<Integer, Integer> statuses = new TreeMap<>();
        HttpResponse<String> firstRefusal = null;
        int first = 0;
        try {
            for (int i = 0; i < n; i++) {
                HttpResponse<String> r = client.send(request.get().timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                statuses.merge(r.statusCode(), 1, Integer::sum);
                first = i == 0 ? r.statusCode() : first;
                if (r.statusCode() == 429 && firstRefusal == null) {
                    firstRefusal = r;
                }
            }
        } catch (IOException | InterruptedException e) {
            out.println("  failed: " + e);
            out.flush();
            return false;
        }
        StringBuilder counts = new StringBuilder();
        statuses.forEach((status, count) -> counts.append(counts.isEmpty() ? "" : ", ").append(count)
                .append(" x ").append(status));
        out.println("  " + counts);
        if (firstRefusal != null) {
            out.println("  429  " + firstRefusal.body().strip());
            for (String h : List.of("retry-after", "ratelimit-policy", "ratelimit")) {
                firstRefusal.headers().firstValue(h).ifPresent(v -> out.println("       " + h + ": " + v));
            }
        }
        out.println();
        out.flush();
        boolean ok = first == 200 && firstRefusal != null;
        if (!ok) {
            out.println("  unexpected: expected the first request admitted and later ones throttled (429)");
        }
        return ok;
    }

    /** The application behind sidecar B: echoes what it received, including the forwarding headers. */
    private static HttpServer echoApp(InetSocketAddress address) throws IOException {
        HttpServer server = HttpServer.create(address, 0);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "demo-echo-app");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", ex -> {
            long bodyLength = ex.getRequestBody().transferTo(OutputStream.nullOutputStream());
            TreeMap<String, String> seen = new TreeMap<>();
            for (String name : List.of("Host", "X-request-id", "X-forwarded-for", "X-forwarded-proto",
                    "X-forwarded-client-cert")) {
                String v = ex.getRequestHeaders().getFirst(name);
                if (v != null) {
                    seen.put(name.toLowerCase(), v);
                }
            }
            byte[] body = ("app saw " + ex.getRequestMethod() + " " + ex.getRequestURI().getPath()
                    + " " + seen + " body=" + bodyLength + "B\n").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        return server;
    }
}
