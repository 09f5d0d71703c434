package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Per-client throttling at B's inbound listener, end to end: two callers with their own certificates
 * (frontend and reports, so two {@code source.principal} values) call orders through their own outbound
 * sidecars, over mTLS HTTP/2 between sidecars; B reads RateLimitPolicies (and the AuthorizationPolicies that
 * let both callers in) from a directory it watches. Each test has its own paths, hence its own rule.
 * <pre>
 * client ──▶ frontend outbound ──mTLS h2──▶ orders inbound (authz → rate limit) ──▶ backend
 * client ──▶ reports outbound  ──mTLS h2──┘
 * </pre>
 * The TLS provider comes from {@code outrider.test.tlsProvider}, as for the other pair tests (the surefire
 * {@code tls-jdk} execution runs this class again with the JDK's provider).
 */
class RateLimitPairTest {
    private static final String FRONTEND = "cluster.local/ns/shop/sa/frontend";
    private static final String REPORTS = "cluster.local/ns/shop/sa/reports";
    private static final String LIMITS = "shop/caller-limits";
    private static final Pattern SNAPSHOT_VERSION =
            Pattern.compile("\"policySnapshot\"\\s*:\\s*\\{\\s*\"version\"\\s*:\\s*\"([^\"]+)\"");

    private static TestBackend backend;
    private static Sidecar orders;
    private static Sidecar frontend;
    private static Sidecar reports;
    private static Path policies;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("outrider-ratelimit");
        policies = Files.createDirectory(dir.resolve("policies"));
        writePolicy("00-access.yaml", """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-callers, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  action: ALLOW
                  rules:
                    - from: [{source: {principals: ["%s", "%s"]}}]
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-guarded, namespace: shop}
                spec:
                  action: DENY
                  rules:
                    - to: [{operation: {paths: ["/guarded/denied"]}}]
                """.formatted(FRONTEND, REPORTS));
        writePolicy("10-caller-limits.yaml", """
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata: {name: caller-limits, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  legacyHeaders: true
                  rules:
                  - name: per-caller
                    match: {paths: ["/rate/*"]}
                    key: source.principal
                    limit: {requests: 20, per: 1s, burst: 5}
                  - name: in-flight
                    match: {paths: ["/slow/*"]}
                    key: source.principal
                    maxInFlight: 2
                  - name: guarded
                    match: {paths: ["/guarded/*"]}
                    key: source.principal
                    limit: {requests: 3, per: 1h}
                  - name: grpc
                    match: {paths: ["/test.Orders/*"]}
                    key: source.principal
                    limit: {requests: 1, per: 1h}
                """);
        writePolicy("20-budget.yaml", budgetPolicy(3));
        writePolicy("30-shadow.yaml", """
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata:
                  name: shadow-limits
                  namespace: shop
                  annotations: {outrider.dev/dry-run: "true"}
                spec:
                  rules:
                  - name: shadow
                    match: {paths: ["/dry/*"]}
                    key: source.principal
                    limit: {requests: 2, per: 1h}
                """);
        writePolicy("40-quota.yaml", """
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata: {name: quota-limits, namespace: shop}
                spec:
                  admittedHeaders: true
                  rules:
                  - name: per-caller
                    match: {paths: ["/quota/*"]}
                    key: source.principal
                    limit: {requests: 3, per: 1m}
                """);

        TestPki.Ca ca = TestPki.root("rate-limit mesh root");
        ca.writeBundle(dir.resolve("bundle.pem"));
        backend = TestBackend.start();
        orders = MeshSidecars.inbound("orders", backend.port(), SidecarPair.tls(ca, dir, "orders"),
                "policies: {directory: '" + policies + "', reloadInterval: 100ms}");
        String services = "- {name: orders, namespace: shop, endpoints: [\"127.0.0.1:%d\"]}"
                .formatted(orders.inboundAddress().getPort());
        frontend = MeshSidecars.outbound("frontend", services, SidecarPair.tls(ca, dir, "frontend"));
        reports = MeshSidecars.outbound("reports", services, SidecarPair.tls(ca, dir, "reports"));
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        for (Sidecar s : new Sidecar[] {reports, frontend, orders}) {
            if (s != null) {
                s.close();
            }
        }
        if (backend != null) {
            backend.releaseHeld();
            backend.close();
        }
    }

    private static String budgetPolicy(int requests) {
        return """
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata: {name: budget-limits, namespace: shop}
                spec:
                  rules:
                  - name: budget
                    match: {paths: ["/budget/*"]}
                    key: source.principal
                    limit: {requests: %d, per: 1h}
                """.formatted(requests);
    }

    /** Writes a policy file whole (a temporary dot file, then a rename), so the watcher never reads half. */
    private static void writePolicy(String name, String yaml) throws IOException {
        Path tmp = policies.resolve("." + name + ".tmp");
        Files.writeString(tmp, yaml);
        Files.move(tmp, policies.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static HttpRequest request(Sidecar caller, String target) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + caller.outboundAddress().getPort() + target))
                .header("Host", "orders").timeout(Duration.ofSeconds(10)).build();
    }

    private static HttpResponse<String> get(Sidecar caller, String target) throws Exception {
        return client.send(request(caller, target), HttpResponse.BodyHandlers.ofString());
    }

    private static CompletableFuture<HttpResponse<String>> getAsync(Sidecar caller, String target) {
        return client.sendAsync(request(caller, target), HttpResponse.BodyHandlers.ofString());
    }

    /** B's {@code outrider_ratelimit_requests_total} of one rule, result and mode. */
    private static double counted(String policy, String rule, String result, String mode) {
        return Metrics.sum(orders, "outrider_ratelimit_requests_total", "policy", policy, "rule", rule,
                "result", result, "mode", mode);
    }

    private static double enforced(String rule, String result) {
        return counted(LIMITS, rule, result, "enforced");
    }

    private static double reloads(String result) {
        return Metrics.sum(orders, "outrider_policy_reloads_total", "result", result);
    }

    private static String snapshotVersion() throws Exception {
        try (HttpClient admin = HttpClient.newHttpClient()) {
            String config = admin.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + orders.adminAddress().getPort() + "/config")).build(), HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = SNAPSHOT_VERSION.matcher(config);
            assertThat(m.find()).as("/config names the policy snapshot in force: %s", config).isTrue();
            return m.group(1);
        }
    }

    /** Applies {@code change} to the directory and waits until B has the new snapshot in force. */
    private static void changePolicies(IoAction change) throws Exception {
        double applied = reloads("applied");
        double refused = reloads("refused");
        String version = snapshotVersion();
        change.run();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
            assertThat(reloads("refused")).as("B refused the change (see its log)").isEqualTo(refused);
            return reloads("applied") > applied;
        });
        assertThat(reloads("applied")).as("one change, one reload").isEqualTo(applied + 1);
        assertThat(snapshotVersion()).as("/config shows the new snapshot").isNotEqualTo(version);
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static void assertRateLimited(HttpResponse<String> r, String field, long quota, long window) {
        assertThat(r.statusCode()).as("status of %s", r.uri()).isEqualTo(429);
        HttpHeaders h = r.headers();
        long retry = Long.parseLong(h.firstValue("retry-after").orElseThrow());
        assertThat(retry).isPositive();
        assertThat(h.allValues("ratelimit-policy")).containsExactly("\"" + field + "\";q=" + quota + ";w=" + window);
        assertThat(h.allValues("ratelimit")).containsExactly("\"" + field + "\";r=0;t=" + retry);
        assertThat(r.body()).contains("rate limit");
    }

    /** Waits until each of {@code requests} was answered or is held at the backend (plus {@code heldBefore}). */
    private static void awaitSettled(List<CompletableFuture<HttpResponse<String>>> requests, int heldBefore) {
        await().atMost(Duration.ofSeconds(10)).until(() ->
                answered(requests).size() + backend.heldCount() - heldBefore == requests.size());
    }

    private static List<HttpResponse<String>> answered(List<CompletableFuture<HttpResponse<String>>> requests) {
        return requests.stream().filter(CompletableFuture::isDone).map(CompletableFuture::join).toList();
    }

    private static void assertConcurrencyLimited(HttpResponse<String> r) {
        assertThat(r.statusCode()).as("status of %s", r.uri()).isEqualTo(503);
        assertThat(r.headers().allValues("retry-after")).containsExactly("1");
        assertThat(r.headers().firstValue("ratelimit")).as("not a rate limit").isEmpty();
        assertThat(r.headers().firstValue("ratelimit-policy")).isEmpty();
        assertThat(r.body()).contains("concurrency limit");
    }

    /**
     * frontend floods {@code /rate/*} (20/s, burst 5, per caller) from four connections while reports, at
     * 5/s, makes 15 calls: reports is never refused, frontend is held to its own budget, and B's rule
     * counters add up to what both callers saw.
     */
    @Test
    void aNoisyCallerIsThrottledWhileAPoliteOneIsNot() throws Exception {
        double admittedBefore = enforced("per-caller", "admitted");
        double limitedBefore = enforced("per-caller", "rate_limited");
        double concurrencyBefore = enforced("per-caller", "concurrency_limited");
        int forwardedBefore = backend.requestCount();

        int maxNoisy = 400;
        AtomicInteger sent = new AtomicInteger();
        AtomicInteger noisyOk = new AtomicInteger();
        AtomicInteger noisyLimited = new AtomicInteger();
        AtomicInteger limitedWhilePoliteRan = new AtomicInteger();
        AtomicLong lastResponse = new AtomicLong();
        AtomicBoolean politeRunning = new AtomicBoolean();
        AtomicBoolean politeDone = new AtomicBoolean();
        CountDownLatch firstRefusal = new CountDownLatch(1);
        Map<String, Integer> otherOutcomes = new ConcurrentHashMap<>();
        Set<List<String>> refusalFields = ConcurrentHashMap.newKeySet();
        ExecutorService threads = Executors.newFixedThreadPool(5);
        try {
            long started = System.nanoTime();
            List<Future<?>> noisy = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                noisy.add(threads.submit(() -> {
                    while (!politeDone.get() && sent.incrementAndGet() <= maxNoisy) {
                        HttpResponse<String> r = get(frontend, "/rate/noisy");
                        lastResponse.accumulateAndGet(System.nanoTime(), Math::max);
                        if (r.statusCode() == 200) {
                            noisyOk.incrementAndGet();
                        } else if (r.statusCode() == 429) {
                            noisyLimited.incrementAndGet();
                            if (politeRunning.get()) {
                                limitedWhilePoliteRan.incrementAndGet();
                            }
                            HttpHeaders h = r.headers();
                            refusalFields.add(List.of(h.allValues("retry-after").toString(),
                                    h.allValues("ratelimit-policy").toString(), h.allValues("ratelimit").toString(),
                                    h.allValues("x-ratelimit-limit").toString(),
                                    h.allValues("x-ratelimit-remaining").toString(),
                                    h.allValues("x-ratelimit-reset").toString()));
                            firstRefusal.countDown();
                        } else {
                            otherOutcomes.merge(r.statusCode() + " " + r.body().strip(), 1, Integer::sum);
                        }
                    }
                    return null;
                }));
            }
            assertThat(firstRefusal.await(10, TimeUnit.SECONDS)).as("frontend was refused at all").isTrue();

            // reports at 5/s: never faster, whatever the machine does (a pause after each response).
            List<Integer> polite = new ArrayList<>();
            politeRunning.set(true);
            try {
                for (int i = 0; i < 15; i++) {
                    polite.add(get(reports, "/rate/polite").statusCode());
                    Thread.sleep(200);
                }
            } finally {
                politeRunning.set(false);
                politeDone.set(true);
            }
            for (Future<?> f : noisy) {
                f.get(30, TimeUnit.SECONDS);
            }
            double elapsedSeconds = (lastResponse.get() - started) / 1e9;

            assertThat(polite).as("reports, well under its own limit").hasSize(15).containsOnly(200);
            assertThat(otherOutcomes).as("frontend got only 200 and 429").isEmpty();
            int ok = noisyOk.get();
            int limited = noisyLimited.get();
            assertThat(limitedWhilePoliteRan.get()).as("frontend refused while reports was admitted").isPositive();
            assertThat(ok).as("the burst, at least").isGreaterThanOrEqualTo(5)
                    .as("burst 5 + 20/s over %.2f s (+1 for rounding)", elapsedSeconds)
                    .isLessThanOrEqualTo(5 + (int) (20 * elapsedSeconds) + 1);
            assertThat(refusalFields).as("every 429 carries the same fields, naming the rule").containsExactly(
                    List.of("[1]", "[\"caller-limits/per-caller\";q=20;w=1]", "[\"caller-limits/per-caller\";r=0;t=1]",
                            "[20]", "[0]", "[1]"));

            assertThat(backend.requestCount() - forwardedBefore).as("forwarded: every 200, nothing else")
                    .isEqualTo(15 + ok);
            assertThat(enforced("per-caller", "admitted") - admittedBefore).isEqualTo(15 + ok);
            assertThat(enforced("per-caller", "rate_limited") - limitedBefore).isEqualTo(limited);
            assertThat(enforced("per-caller", "concurrency_limited")).isEqualTo(concurrencyBefore);
        } finally {
            politeDone.set(true);
            threads.shutdownNow();
        }
    }

    /**
     * {@code maxInFlight: 2} per caller: of five concurrent requests the backend holds, two reach it and three
     * get 503 at once; once the two are answered their slots are free again (two more get through while a
     * third is refused).
     */
    @Test
    void atMostTwoRequestsOfACallerAreInFlight() throws Exception {
        double admittedBefore = enforced("in-flight", "admitted");
        double limitedBefore = enforced("in-flight", "concurrency_limited");
        int forwardedBefore = backend.requestCount();
        List<CompletableFuture<HttpResponse<String>>> first = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            first.add(getAsync(frontend, "/slow/" + i + "?hold"));
        }
        awaitSettled(first, 0);
        assertThat(backend.heldCount()).as("requests in flight at the backend").isEqualTo(2);
        List<HttpResponse<String>> refused = answered(first);
        assertThat(refused).as("answered at once").hasSize(3);
        for (HttpResponse<String> r : refused) {
            assertConcurrencyLimited(r);
        }
        assertThat(backend.requestCount() - forwardedBefore).as("only the two admitted reached the backend")
                .isEqualTo(2);
        // HTTP/1.1 callers go over pooled HTTP/1.1 between the sidecars: the two requests B holds came on two
        // connections, and the limit counted them together (it is per caller, not per connection).
        assertThat(Metrics.sum(orders, "outrider_active_connections", "direction", "inbound"))
                .as("B's inbound connections").isGreaterThanOrEqualTo(2.0);

        // reports is another key: its own two slots while frontend holds both of its own.
        List<CompletableFuture<HttpResponse<String>>> other = List.of(getAsync(reports, "/slow/r1?hold"),
                getAsync(reports, "/slow/r2?hold"));
        awaitSettled(other, 2);
        assertThat(answered(other)).as("reports refused").isEmpty();
        assertThat(backend.heldCount()).isEqualTo(4);

        assertThat(backend.releaseHeld()).isEqualTo(4);
        for (CompletableFuture<HttpResponse<String>> f : first) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertThat(first.stream().map(f -> f.join().statusCode()).toList()).as("frontend's five")
                .containsExactlyInAnyOrder(200, 200, 503, 503, 503);
        for (CompletableFuture<HttpResponse<String>> f : other) {
            assertThat(f.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }

        // The slots were given back at the responses' end: two more get through, a third does not.
        List<CompletableFuture<HttpResponse<String>>> again = List.of(getAsync(frontend, "/slow/a?hold"),
                getAsync(frontend, "/slow/b?hold"));
        awaitSettled(again, 0);
        assertThat(answered(again)).as("refused though the earlier two were answered").isEmpty();
        assertThat(backend.heldCount()).isEqualTo(2);
        assertConcurrencyLimited(get(frontend, "/slow/c"));
        assertThat(backend.releaseHeld()).isEqualTo(2);
        for (CompletableFuture<HttpResponse<String>> f : again) {
            assertThat(f.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        assertThat(get(frontend, "/slow/d").statusCode()).as("nothing left in flight").isEqualTo(200);

        assertThat(enforced("in-flight", "admitted") - admittedBefore).isEqualTo(2 + 2 + 2 + 1);
        assertThat(enforced("in-flight", "concurrency_limited") - limitedBefore).isEqualTo(3 + 1);
        assertThat(enforced("in-flight", "rate_limited")).isZero();
    }

    /**
     * {@code requests: 3, per: 1h}: the spent budget stays spent across a reload that leaves the rule as it
     * was (other documents added), and starts afresh once the rule's limit changes.
     */
    @Test
    void aReloadKeepsTheBudgetOfAnUnchangedRuleAndAChangedRuleStartsAfresh() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertThat(get(frontend, "/budget/x").statusCode()).isEqualTo(200);
        }
        HttpResponse<String> spent = get(frontend, "/budget/x");
        assertRateLimited(spent, "budget-limits/budget", 3, 3600);
        assertThat(Long.parseLong(spent.headers().firstValue("retry-after").orElseThrow()))
                .as("a third of an hour, less the time the three took").isBetween(1190L, 1200L);
        assertThat(spent.headers().firstValue("x-ratelimit-limit")).as("legacyHeaders is off").isEmpty();
        for (int i = 0; i < 2; i++) {
            assertThat(get(reports, "/budget/x").statusCode()).as("another caller, another budget").isEqualTo(200);
        }

        changePolicies(() -> writePolicy("40-unrelated.yaml", """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-nothing, namespace: shop}
                spec:
                  action: DENY
                  rules: [{to: [{operation: {paths: ["/nothing"]}}]}]
                ---
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata: {name: other-limits, namespace: shop}
                spec:
                  rules:
                  - {name: other, match: {paths: ["/other/*"]}, limit: {requests: 1, per: 1h}}
                """));
        assertRateLimited(get(frontend, "/budget/x"), "budget-limits/budget", 3, 3600);
        assertThat(get(reports, "/budget/x").statusCode()).as("reports had one left").isEqualTo(200);
        assertRateLimited(get(reports, "/budget/x"), "budget-limits/budget", 3, 3600);

        changePolicies(() -> writePolicy("20-budget.yaml", budgetPolicy(4)));
        int forwarded = backend.requestCount();
        for (int i = 0; i < 4; i++) {
            assertThat(get(frontend, "/budget/x").statusCode()).as("request %d under the new limit", i + 1)
                    .isEqualTo(200);
        }
        assertRateLimited(get(frontend, "/budget/x"), "budget-limits/budget", 4, 3600);
        assertThat(backend.requestCount() - forwarded).isEqualTo(4);
    }

    /** A dry-run policy never refuses; its rule counts the refusals it would have made under mode=dry_run. */
    /**
     * {@code admittedHeaders: true}: each admitted response, through both sidecars, says how many requests the
     * caller has left and when its bucket is full again (3 per minute: 20 s per request); the policies without it
     * add nothing to admitted responses.
     */
    @Test
    void admittedResponsesCountTheQuotaDownWhenThePolicyAsks() throws Exception {
        for (int left = 2; left >= 0; left--) {
            HttpResponse<String> r = get(reports, "/quota/x");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().allValues("ratelimit-policy"))
                    .containsExactly("\"quota-limits/per-caller\";q=3;w=60");
            assertThat(r.headers().allValues("ratelimit"))
                    .containsExactly("\"quota-limits/per-caller\";r=" + left + ";t=" + 20 * (3 - left));
        }
        assertRateLimited(get(reports, "/quota/x"), "quota-limits/per-caller", 3, 60);
        HttpResponse<String> other = get(frontend, "/quota/x");
        assertThat(other.headers().allValues("ratelimit")).as("another caller, its own budget")
                .containsExactly("\"quota-limits/per-caller\";r=2;t=20");
        assertThat(get(reports, "/rate/x").headers().allValues("ratelimit"))
                .as("a policy without admittedHeaders adds nothing to admitted responses").isEmpty();
    }

    @Test
    void aDryRunPolicyCountsButNeverRefuses() throws Exception {
        String policy = "shop/shadow-limits";
        double admitted = counted(policy, "shadow", "admitted", "dry_run");
        double limited = counted(policy, "shadow", "rate_limited", "dry_run");
        int forwarded = backend.requestCount();
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = get(frontend, "/dry/x");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("retry-after")).isEmpty();
            assertThat(r.headers().firstValue("ratelimit")).isEmpty();
        }
        assertThat(backend.requestCount() - forwarded).isEqualTo(6);
        assertThat(counted(policy, "shadow", "admitted", "dry_run") - admitted).isEqualTo(2);
        assertThat(counted(policy, "shadow", "rate_limited", "dry_run") - limited).isEqualTo(4);
        assertThat(Metrics.sum(orders, "outrider_ratelimit_requests_total", "policy", policy, "mode", "enforced"))
                .as("no enforced series for a dry-run policy").isZero();
    }

    /** Authorization runs first: requests it denies never reach the rule, so the whole burst is left. */
    @Test
    void requestsDeniedByAuthorizationCostNoBudget() throws Exception {
        double admitted = enforced("guarded", "admitted");
        double limited = enforced("guarded", "rate_limited");
        double denied = Metrics.sum(orders, "outrider_authz_decisions_total", "decision", "deny",
                "policy", "shop/deny-guarded", "mode", "enforced");
        int forwarded = backend.requestCount();
        for (int i = 0; i < 5; i++) {
            assertThat(get(frontend, "/guarded/denied").statusCode()).isEqualTo(403);
        }
        assertThat(Metrics.sum(orders, "outrider_authz_decisions_total", "decision", "deny",
                "policy", "shop/deny-guarded", "mode", "enforced")).isEqualTo(denied + 5);
        assertThat(enforced("guarded", "admitted")).as("the rule never saw them").isEqualTo(admitted);
        assertThat(enforced("guarded", "rate_limited")).isEqualTo(limited);

        for (int i = 0; i < 3; i++) {
            assertThat(get(frontend, "/guarded/ok").statusCode()).as("request %d of the burst", i + 1).isEqualTo(200);
        }
        HttpResponse<String> over = get(frontend, "/guarded/ok");
        assertRateLimited(over, "caller-limits/guarded", 3, 3600);
        assertThat(over.headers().allValues("x-ratelimit-limit")).as("legacyHeaders: true").containsExactly("3");
        assertThat(backend.requestCount() - forwarded).isEqualTo(3);
        assertThat(enforced("guarded", "admitted") - admitted).isEqualTo(3);
        assertThat(enforced("guarded", "rate_limited") - limited).isEqualTo(1);
    }

    /** gRPC over the limit: HTTP 200 with grpc-status 8 (RESOURCE_EXHAUSTED), over h2c to A, h2 to B. */
    @Test
    void aThrottledGrpcCallGetsResourceExhausted() throws Exception {
        try (H2Client h2 = new H2Client(frontend.outboundAddress())) {
            assertThat(h2.send(grpc()).get(10, TimeUnit.SECONDS).status().code()).isEqualTo(200);
            H2Client.Response r = h2.send(grpc()).get(10, TimeUnit.SECONDS);
            assertThat(r.status().code()).isEqualTo(200);
            io.netty.handler.codec.http.HttpHeaders all = r.headers().copy().add(r.trailers());
            assertThat(all.getAll("grpc-status")).containsExactly("8");
            assertThat(all.get("grpc-message")).contains("rate limit");
            long retry = Long.parseLong(all.get("retry-after"));
            assertThat(retry).isBetween(3590L, 3600L);
            assertThat(all.get("grpc-retry-pushback-ms")).isEqualTo(String.valueOf(retry * 1000));
            assertThat(all.get("ratelimit-policy")).isEqualTo("\"caller-limits/grpc\";q=1;w=3600");
        }
    }

    private static FullHttpRequest grpc() {
        FullHttpRequest r = H2Client.request(HttpMethod.POST, "/test.Orders/Get", "orders", "\0\0\0\0\0");
        r.headers().set("content-type", "application/grpc").set("te", "trailers");
        return r;
    }
}
