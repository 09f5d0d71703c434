package dev.outrider.proxy.process;

import com.sun.net.httpserver.HttpServer;
import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGTERM to a sidecar of a real mesh under open-loop load loses nothing: caller → A (outbound) → mTLS HTTP/2 →
 * B (inbound) → an application answering every request after {@value #BACKEND_DELAY_MS} ms, each sidecar its own
 * process. Requests go out at a fixed rate whatever the answers (no client retries), so well over 40 are in flight
 * when the signal comes. Afterwards every request sent got a 200 and the application saw each one exactly once
 * (counted by a unique id per request): nothing was lost after the application had answered it, and nothing was
 * sent to it twice.
 *
 * <ul>
 *   <li>SIGTERM to B1, one of the two instances behind {@code orders}, once both answer (A's connections are made)
 *       and while the load goes on, and the test checks that B1 had requests of its own then: B1 drains its
 *       HTTP/2 connection from A (GOAWAY, streams it took finish, streams it did not take are retried by A on
 *       B2). A's retry budget is generous here, so requests that meet B1's closed listener move to B2 whatever
 *       the budget: what is under test is what happens to the requests on B1's connection.</li>
 *   <li>SIGTERM to A, the caller's sidecar: the requests in flight through it finish (the caller stops sending
 *       at the signal, since A's listener closes; a request still connecting then is refused and must never
 *       reach the application).</li>
 * </ul>
 * The TLS provider of every sidecar is {@code outrider.test.tlsProvider} (this class runs in both surefire
 * executions).
 */
class DrainUnderLoadProcessTest {
    private static final int BACKEND_DELAY_MS = 800;
    /**
     * Requests per second, open loop: ~{@code RATE * delay} = 80 in flight. Low enough for a slow shared machine
     * (three sidecars, the application and the caller on 2 cores: at 400/s an overloaded run timed out or sent
     * requests again for reasons that have nothing to do with the drain under test).
     */
    private static final int RATE = 100;
    private static final int MIN_IN_FLIGHT = 40;
    /** Requests each instance behind {@code orders} answers before the signal: the load has reached it. */
    private static final int WARM_ANSWERS = 50;

    private HttpServer backend;
    private final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
    private final List<SidecarProcess> processes = new ArrayList<>();
    private HttpClient client;

    @BeforeEach
    void start() throws IOException {
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
        backend.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        backend.createContext("/work/", ex -> {
            String id = ex.getRequestURI().getPath().substring("/work/".length());
            ex.getRequestBody().readAllBytes();
            seen.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            try {
                Thread.sleep(BACKEND_DELAY_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = id.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        backend.start();
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stop() {
        for (SidecarProcess p : processes) {
            p.close();
        }
        client.close();
        backend.stop(0);
    }

    @Test
    void sigtermToInboundSidecarUnderLoadLosesNothing(@TempDir Path dir) throws Exception {
        Mesh mesh = Mesh.create(dir);
        SidecarProcess b1 = keep(mesh.orders(dir.resolve("b1"), backend.getAddress().getPort()));
        SidecarProcess b2 = keep(mesh.orders(dir.resolve("b2"), backend.getAddress().getPort()));
        SidecarProcess a = keep(mesh.frontend(dir.resolve("a"), List.of(b1.inboundPort, b2.inboundPort)));

        Load load = new Load(client, a.outboundPort);
        // Steady state first: connections made and both instances answering (cold sidecars take seconds to make
        // their first connections; a signal before that would find B1 with nothing to drain).
        load.runUntil(() -> b1.inboundAnswered() >= WARM_ANSWERS && b2.inboundAnswered() >= WARM_ANSWERS,
                "B1 and B2 each answering " + WARM_ANSWERS + " requests");
        load.runUntilInFlight(MIN_IN_FLIGHT);
        int inFlight = load.inFlight();
        List<String> unansweredAtSignal = load.unanswered();
        b1.terminate();
        // The load goes on across B1's whole drain and past its exit: A keeps trying B1's closed port for new
        // requests (the endpoint list is fixed) and must move them to B2. Ports are below the ephemeral range
        // (SidecarProcess.freePort), so a connect to the closed port cannot meet itself; the application keeps
        // its idle keep-alive connections (surefire sets sun.net.httpserver.maxIdleConnections): the JDK server
        // closes those beyond 200 on a timer, and B2, taking the whole load at once, would meet many closed at
        // the same moment, more than its retry budget covers.
        load.runFor(Duration.ofMillis(1500));

        load.assertAllAnsweredOnce(seen, inFlight, List.of(a, b1, b2), false);
        assertThat(b1.awaitExit(Duration.ofSeconds(30))).as(b1.logText()).isZero();
        // What is under test happened: B1 had requests of its own when the signal came (its access log, complete
        // once it exited, names some of those unanswered at that moment).
        String b1Log = b1.logText();
        assertThat(unansweredAtSignal).as("requests unanswered at B1's SIGTERM that B1 served")
                .anyMatch(id -> b1Log.contains("/work/" + id + "\""));
        for (SidecarProcess p : processes) {
            p.assertNoLeaks();
        }
    }

    @Test
    void sigtermToOutboundSidecarUnderLoadLosesNothing(@TempDir Path dir) throws Exception {
        Mesh mesh = Mesh.create(dir);
        SidecarProcess b = keep(mesh.orders(dir.resolve("b"), backend.getAddress().getPort()));
        SidecarProcess a = keep(mesh.frontend(dir.resolve("a"), List.of(b.inboundPort)));

        Load load = new Load(client, a.outboundPort);
        load.runUntilInFlight(MIN_IN_FLIGHT);
        int inFlight = load.inFlight();
        a.terminate(); // and no more requests: A's listener closes, nothing more can be sent through it

        // A request whose connection to A was still being made when A's listener closed never reached A: refused,
        // it must not have reached the application either.
        load.assertAllAnsweredOnce(seen, inFlight, List.of(a, b), true);
        assertThat(a.awaitExit(Duration.ofSeconds(30))).as(a.logText()).isZero();
        for (SidecarProcess p : processes) {
            p.assertNoLeaks();
        }
    }

    private SidecarProcess keep(SidecarProcess p) {
        processes.add(p);
        return p;
    }

    /** One mesh root; every sidecar proves {@code spiffe://cluster.local/ns/test/sa/app} (the harness's node). */
    private record Mesh(String tls, String provider) {
        static Mesh create(Path dir) {
            TestPki.Ca ca = TestPki.root("drain test root");
            Path bundle = dir.resolve("bundle.pem");
            ca.writeBundle(bundle);
            Path cert = dir.resolve("cert.pem");
            Path key = dir.resolve("key.pem");
            ca.leaf().spiffe(TestPki.spiffe("cluster.local", "test", "app")).issue().writeTo(cert, key);
            String provider = System.getProperty("outrider.test.tlsProvider", "auto");
            return new Mesh("tls: {certificate: '%s', privateKey: '%s', trustBundle: '%s', provider: %s}"
                    .formatted(cert, key, bundle, provider), provider);
        }

        SidecarProcess orders(Path dir, int appPort) throws Exception {
            Files.createDirectories(dir);
            return SidecarProcess.start(dir, appPort, "runtime: {drainTimeout: 20s}\naccessLog: {enabled: true}\n", List.of("-Xmx128m"), tls);
        }

        /**
         * A: knows {@code orders} at {@code endpoints}, spoken to over HTTP/2 (the caller speaks HTTP/1.1: with
         * {@code auto} A would open a connection per request in flight); retries are not rationed by the budget
         * (see the class).
         */
        SidecarProcess frontend(Path dir, List<Integer> endpoints) throws Exception {
            Files.createDirectories(dir);
            StringBuilder eps = new StringBuilder();
            for (int port : endpoints) {
                eps.append(eps.isEmpty() ? "" : ", ").append("\"127.0.0.1:").append(port).append('"');
            }
            return SidecarProcess.start(dir, 1, """
                    runtime: {drainTimeout: 20s}
                    accessLog: {enabled: true}
                    upstream: {retryBudgetPercent: 100, minRetryConcurrency: 10000}
                    services:
                      - name: orders
                        namespace: test
                        protocol: h2c
                        endpoints: [%s]
                        identities: ["spiffe://cluster.local/ns/test/sa/app"]
                    """.formatted(eps), List.of("-Xmx128m"), tls);
        }
    }

    /**
     * Open-loop load: request i leaves at {@code start + i / RATE} whatever happened to the others, each with its
     * own id ({@code GET /work/<id>} to A's outbound listener, Host {@code orders}). The sending thread is the
     * test thread; answers are collected asynchronously.
     */
    private static final class Load {
        private final HttpClient client;
        private final int port;
        private final List<CompletableFuture<String>> results = new ArrayList<>();
        private final AtomicInteger done = new AtomicInteger();
        private final long periodNanos = TimeUnit.SECONDS.toNanos(1) / RATE;
        private long next = System.nanoTime();

        Load(HttpClient client, int port) {
            this.client = client;
            this.port = port;
        }

        int inFlight() {
            return results.size() - done.get();
        }

        /** The ids of the requests sent and not yet answered. */
        List<String> unanswered() {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < results.size(); i++) {
                if (!results.get(i).isDone()) {
                    ids.add("r" + i);
                }
            }
            return ids;
        }

        /**
         * Sends for a warm-up second (connections made, steady state: every sidecar has requests in flight), then
         * until {@code min} requests are in flight (at most 20 s of load).
         */
        void runUntilInFlight(int min) {
            runFor(Duration.ofSeconds(1));
            long limit = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (inFlight() < min) {
                assertThat(System.nanoTime()).as("%d requests in flight within 20 s", min).isLessThan(limit);
                sendNext();
            }
        }

        /** Sends until {@code reached} holds (checked every 100 ms; at most 30 s of load). */
        void runUntil(BooleanSupplier reached, String what) {
            long limit = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!reached.getAsBoolean()) {
                assertThat(System.nanoTime()).as("%s within 30 s", what).isLessThan(limit);
                runFor(Duration.ofMillis(100));
            }
        }

        void runFor(Duration d) {
            long end = System.nanoTime() + d.toNanos();
            while (System.nanoTime() < end) {
                sendNext();
            }
        }

        private void sendNext() {
            long now = System.nanoTime();
            if (now < next) {
                LockSupport.parkNanos(next - now);
            }
            next += periodNanos;
            String id = "r" + results.size();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/work/" + id))
                    .header("Host", "orders").timeout(Duration.ofSeconds(30)).build();
            CompletableFuture<String> result = client.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                    .handle((r, e) -> {
                        done.incrementAndGet();
                        if (e != null) {
                            return id + ": " + e;
                        }
                        return r.statusCode() == 200 && r.body().equals(id) ? null
                                : id + ": " + r.statusCode() + " " + r.body().strip();
                    });
            results.add(result);
        }

        /**
         * @param refusedIsUnsent a request whose connection was refused (A's listener closed before it connected)
         *                        counts as never sent: it must not reach the application
         */
        void assertAllAnsweredOnce(Map<String, AtomicInteger> seen, int inFlightAtSignal,
                                   List<SidecarProcess> sidecars, boolean refusedIsUnsent) throws Exception {
            CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            List<String> failed = new ArrayList<>();
            Set<String> unsent = new HashSet<>();
            for (CompletableFuture<String> r : results) {
                String failure = r.getNow("unfinished");
                if (failure != null && refusedIsUnsent && failure.contains("java.net.ConnectException")) {
                    unsent.add(failure.substring(0, failure.indexOf(':')));
                } else if (failure != null) {
                    failed.add(failure);
                }
            }
            Map<String, Integer> notOnce = new TreeMap<>();
            for (int i = 0; i < results.size(); i++) {
                AtomicInteger n = seen.get("r" + i);
                if (unsent.contains("r" + i)) {
                    if (n != null) {
                        notOnce.put("r" + i, n.get()); // refused, yet the application saw it
                    }
                } else if (n == null || n.get() != 1) {
                    notOnce.put("r" + i, n == null ? 0 : n.get());
                }
            }
            StringBuilder logs = new StringBuilder();
            for (SidecarProcess s : sidecars) {
                logs.append("\n--- ").append(s.log).append(":\n").append(linesAbout(s.logText(), failed, notOnce));
            }
            assertThat(inFlightAtSignal).as("requests in flight at the signal").isGreaterThanOrEqualTo(MIN_IN_FLIGHT);
            // What went wrong first, then the logs (a long report may be cut at its end).
            assertThat(failed).as("%d requests (of %d sent) not answered 200 by the application, the first: %s%s",
                    failed.size(), results.size(), failed.subList(0, Math.min(20, failed.size())), logs).isEmpty();
            assertThat(notOnce).as("%d requests the application did not see exactly once (id=times): %s%s",
                    notOnce.size(), notOnce.entrySet().stream().limit(40).toList(), logs).isEmpty();
        }

        /** The log lines that are not access-log lines of answered requests, and those of the requests in question. */
        private static String linesAbout(String log, List<String> failed, Map<String, Integer> notOnce) {
            StringBuilder b = new StringBuilder();
            for (String line : log.split("\n")) {
                boolean access = line.contains("/work/r");
                boolean inQuestion = notOnce.keySet().stream().anyMatch(id -> line.contains("/work/" + id + "\""))
                        || failed.stream().anyMatch(f -> line.contains("/work/" + f.substring(0, f.indexOf(':')) + "\""));
                if ((!access || inQuestion) && !line.startsWith("WARNING") && b.length() < 20_000) {
                    b.append(line).append('\n');
                }
            }
            return b.toString();
        }
    }
}
