package dev.outrider.proxy.authn;

import com.nimbusds.jose.jwk.JWKSet;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static java.util.Objects.requireNonNull;

/**
 * The issuers' JWK Sets, per {@code jwksUri}: fetched off the event loop, published as immutable
 * {@link JWKSet}s through one {@link AtomicReference} per URI, read by event loops without locks.
 *
 * <pre>
 *  event loop                      jwks thread (one, owned here)          JDK HttpClient
 *  ──────────                      ─────────────────────────────          ──────────────
 *  keys(uri) ── reads ──▶ AtomicReference&lt;JWKSet&gt;  ◀── publishes ── parse + validate ◀── body
 *  refetchForUnknownKid(uri) ── rate check (CAS) ──▶ execute(fetch) ──▶ sendAsync ──────▶
 *                                                  schedule(refresh at 80% of TTL, or retry)
 * </pre>
 *
 * <ul>
 *   <li>Refresh: each success schedules the next fetch at {@code refreshFraction × ttl}, so keys are
 *       renewed before they are due; a failure schedules a retry after {@code retryInterval}.</li>
 *   <li>Outage: the last good set stays published however old it gets. A failed, non-200, malformed,
 *       oversized or key-less response never replaces it.</li>
 *   <li>Unknown {@code kid}: at most one on-demand fetch per {@code unknownKidMinInterval} per URI; the
 *       request that saw it is not held (the verifier refuses it now); the returned future lets a caller
 *       that wants to wait do so asynchronously.</li>
 *   <li>Transport: https, or http to a loopback address only; no redirects; connect and request timeouts
 *       bounded by {@code fetchTimeout}; body bounded by {@code maxBodyBytes}.</li>
 * </ul>
 */
public final class JwksCache implements AutoCloseable {
    /**
     * @param ttl                   keys are refreshed at {@code refreshFraction} of this
     * @param refreshFraction       when to refresh within the TTL, in (0, 1]
     * @param unknownKidMinInterval minimum time between two on-demand fetches of one URI
     * @param retryInterval         delay before retrying a failed fetch
     * @param fetchTimeout          connect timeout and whole-request timeout
     * @param maxBodyBytes          a larger response is a failed fetch
     */
    public record Config(Duration ttl, double refreshFraction, Duration unknownKidMinInterval,
                         Duration retryInterval, Duration fetchTimeout, int maxBodyBytes) {
        public Config {
            positive(ttl, "ttl");
            positive(unknownKidMinInterval, "unknownKidMinInterval");
            positive(retryInterval, "retryInterval");
            positive(fetchTimeout, "fetchTimeout");
            if (!(refreshFraction > 0 && refreshFraction <= 1)) {
                throw new IllegalArgumentException("refreshFraction: must be in (0, 1], was " + refreshFraction);
            }
            if (maxBodyBytes < 1024) {
                throw new IllegalArgumentException("maxBodyBytes: too small: " + maxBodyBytes);
            }
        }

        /** TTL 5 min refreshed at 80 %, unknown kid 1 fetch per 30 s, retry 10 s, timeout 5 s, body 512 KiB. */
        public static Config defaults() {
            return new Config(Duration.ofMinutes(5), 0.8, Duration.ofSeconds(30), Duration.ofSeconds(10),
                    Duration.ofSeconds(5), 512 * 1024);
        }

        private static void positive(Duration d, String field) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(field + ": must be positive, was " + d);
            }
        }
    }

    /** One URI's state. */
    private final class Source {
        final URI uri;
        final AtomicReference<JWKSet> keys = new AtomicReference<>();
        final AtomicReference<CompletableFuture<JWKSet>> inFlight = new AtomicReference<>();
        /** nanoTime before which no on-demand fetch starts; CAS-advanced by the request that wins. */
        final AtomicLong nextOnDemandNanos = new AtomicLong(System.nanoTime());
        // Only touched on the jwks thread (fetch completion and close run there): no volatile needed.
        ScheduledFuture<?> next;

        Source(URI uri) {
            this.uri = uri;
        }
    }

    private final Config config;
    private final ScheduledExecutorService executor;
    /**
     * Made at the first fetch, on the jwks thread (its only user; {@link #close} reads it on another, hence
     * volatile): a sidecar whose keys are all inline never starts the client's selector thread.
     */
    private volatile HttpClient client;
    private final ConcurrentHashMap<String, Source> sources = new ConcurrentHashMap<>();
    private final LongAdder fetchOk = new LongAdder();
    private final LongAdder fetchFailed = new LongAdder();
    private volatile boolean closed;

    public JwksCache(Config config) {
        this.config = requireNonNull(config, "config");
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "outrider-jwks");
            t.setDaemon(true);
            return t;
        });
    }

    /** On the jwks thread. */
    private HttpClient client() {
        HttpClient c = client;
        if (c == null) {
            c = HttpClient.newBuilder()
                    .executor(executor)
                    .connectTimeout(config.fetchTimeout())
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .build();
            client = c;
            if (closed) {
                c.shutdownNow(); // closed meanwhile: close() may have read null
            }
        }
        return c;
    }

    /**
     * Validates {@code uri} (https, or http to loopback) and starts its first fetch if it is new.
     *
     * @throws IllegalArgumentException with the reason, for config errors
     */
    public void register(String uri) {
        source(uri);
    }

    /** The last good keys of {@code uri}, or null if none was ever fetched. Never blocks. */
    public JWKSet keys(String uri) {
        return source(uri).keys.get();
    }

    /**
     * Asks for a fetch because a token named a {@code kid} the current set lacks. At most one such fetch
     * starts per {@code unknownKidMinInterval} per URI; otherwise this returns the fetch in flight, or the
     * current keys. Never blocks; the future completes on the jwks thread (with the current keys, also
     * when the fetch failed).
     */
    public CompletableFuture<JWKSet> refetchForUnknownKid(String uri) {
        Source source = source(uri);
        long now = System.nanoTime();
        long allowedAt = source.nextOnDemandNanos.get();
        if (now - allowedAt < 0
                || !source.nextOnDemandNanos.compareAndSet(allowedAt, now + config.unknownKidMinInterval().toNanos())) {
            CompletableFuture<JWKSet> running = source.inFlight.get();
            return running != null ? running : CompletableFuture.completedFuture(source.keys.get());
        }
        return startFetch(source);
    }

    /** Fetches that published keys. */
    public long fetchesSucceeded() {
        return fetchOk.sum();
    }

    /** Fetches that failed (transport, status, size, parse or empty set). */
    public long fetchesFailed() {
        return fetchFailed.sum();
    }

    @Override
    public void close() {
        closed = true;
        // shutdownNow, not close: close() waits for a fetch in flight (up to the fetch timeout).
        HttpClient c = client;
        if (c != null) {
            c.shutdownNow();
        }
        executor.shutdownNow();
    }

    private Source source(String uri) {
        requireNonNull(uri, "uri");
        Source existing = sources.get(uri);
        if (existing != null) {
            return existing;
        }
        URI parsed = checkUri(uri);
        boolean[] created = {false};
        Source source = sources.computeIfAbsent(uri, u -> {
            created[0] = true;
            return new Source(parsed);
        });
        if (created[0]) {
            startFetch(source);
        }
        return source;
    }

    /** https anywhere; http only to a loopback host (development). */
    static URI checkUri(String uri) {
        URI parsed;
        try {
            parsed = URI.create(uri);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a URI");
        }
        String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
        String host = parsed.getHost();
        if (host == null) {
            throw new IllegalArgumentException("URI has no host");
        }
        if (scheme.equals("https")) {
            return parsed;
        }
        if (scheme.equals("http") && isLoopback(host)) {
            return parsed;
        }
        throw new IllegalArgumentException("must be https (http only to a loopback address)");
    }

    private static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        String literal = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        // Only IP literals are resolved here (no DNS lookup): a name other than localhost is not loopback.
        if (!literal.matches("[0-9.]+") && !literal.contains(":")) {
            return false;
        }
        try {
            return InetAddress.getByName(literal).isLoopbackAddress();
        } catch (IOException e) {
            return false;
        }
    }

    /** Starts a fetch unless one is in flight; the caller's thread only hands work to the jwks thread. */
    private CompletableFuture<JWKSet> startFetch(Source source) {
        CompletableFuture<JWKSet> mine = new CompletableFuture<>();
        if (!source.inFlight.compareAndSet(null, mine)) {
            CompletableFuture<JWKSet> running = source.inFlight.get();
            return running != null ? running : CompletableFuture.completedFuture(source.keys.get());
        }
        if (closed) {
            source.inFlight.set(null);
            mine.complete(source.keys.get());
            return mine;
        }
        executor.execute(() -> fetch(source, mine));
        return mine;
    }

    /** On the jwks thread. */
    private void fetch(Source source, CompletableFuture<JWKSet> done) {
        HttpRequest request = HttpRequest.newBuilder(source.uri)
                .timeout(config.fetchTimeout())
                .header("Accept", "application/json, application/jwk-set+json")
                .GET()
                .build();
        client().sendAsync(request, BoundedBody.handler(config.maxBodyBytes()))
                .thenApplyAsync(this::parse, executor)
                .whenCompleteAsync((set, failure) -> {
                    boolean ok = failure == null;
                    if (ok) {
                        source.keys.set(set);
                        fetchOk.increment();
                    } else {
                        fetchFailed.increment();
                    }
                    source.inFlight.set(null);
                    schedule(source, ok ? refreshDelay() : config.retryInterval());
                    done.complete(source.keys.get());
                }, executor);
    }

    private Duration refreshDelay() {
        return Duration.ofNanos((long) (config.ttl().toNanos() * config.refreshFraction()));
    }

    private void schedule(Source source, Duration delay) {
        if (closed) {
            return;
        }
        if (source.next != null) {
            source.next.cancel(false);
        }
        source.next = executor.schedule(() -> startFetch(source), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** On the jwks thread: status, JSON, at least one public key. Throws to mean "keep the old set". */
    private JWKSet parse(HttpResponse<byte[]> response) {
        if (response.statusCode() != 200 || response.body() == null) {
            throw new IllegalStateException("JWKS fetch: HTTP " + response.statusCode());
        }
        try {
            JWKSet set = JWKSet.parse(new String(response.body(), StandardCharsets.UTF_8)).toPublicJWKSet();
            if (set.getKeys().isEmpty()) {
                throw new IllegalStateException("JWKS fetch: no public key in the set");
            }
            return set;
        } catch (java.text.ParseException e) {
            throw new IllegalStateException("JWKS fetch: malformed JWK Set", e);
        }
    }
}
