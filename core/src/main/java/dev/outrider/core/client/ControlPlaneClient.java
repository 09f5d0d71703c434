package dev.outrider.core.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.document.Durations;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.SignedSnapshot;
import dev.outrider.core.snapshot.SnapshotResult;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * The control plane's HTTP API (docs/control-plane.md) as Java calls, over the JDK's {@link HttpClient}: HTTP/1.1,
 * TLS 1.3, the server certificate checked against the trust bundle, for the host name and for the expected
 * control-plane SPIFFE ID ({@link SpiffeServerTrustManager}). The client authenticates with a client certificate
 * (re-read from its files whenever their bytes change: a renewed certificate gets a new {@link HttpClient}, the
 * old one finishes its requests and shuts down), with a bearer token, or both.
 *
 * <p>Every call throws (or completes exceptionally with) {@link ControlPlaneException}: an error the server
 * answered, or {@link ControlPlaneException#unreachable()}. Synchronous calls block the calling thread for at most
 * the request timeout: call them from the control-client threads or the CLI, never from an event loop.
 * {@link #nextSnapshot} is asynchronous: a long poll holds no thread of ours.
 *
 * <p>Thread-safe. Threads: the HTTP clients' selector threads and one cached daemon pool
 * ({@code outrider-control-client-N}) for their asynchronous work, all ended by {@link #close()}; or the executor
 * given to {@link #open(ControlPlaneClientConfig, Executor)} instead of that pool.
 */
public final class ControlPlaneClient implements AutoCloseable {
    static final String VERSION_HEADER = "Outrider-Snapshot-Version";
    /** On a snapshot poll's answer: the control plane records the ACK carried by the poll. */
    public static final String ACKS_ON_POLL_HEADER = "Outrider-Acks-On-Poll";
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._-]{0,252})");
    private static final String JSON_TYPE = "application/json";

    private final ControlPlaneClientConfig config;
    private final HttpTransport http;

    private ControlPlaneClient(ControlPlaneClientConfig config, HttpTransport http) {
        this.config = config;
        this.http = http;
    }

    /**
     * Reads the TLS files and makes the client; connects lazily.
     *
     * @throws IllegalArgumentException when the trust bundle cannot be read or holds no certificate (named)
     */
    public static ControlPlaneClient open(ControlPlaneClientConfig config) {
        return open(config, Clock.systemUTC());
    }

    /**
     * As {@link #open(ControlPlaneClientConfig)}, with the HTTP clients' asynchronous work on {@code executor}
     * instead of a pool of the client's own: for a process that runs many clients (the propagation benchmark's
     * simulated sidecars) and shares threads among them. {@link #close()} leaves {@code executor} running.
     */
    public static ControlPlaneClient open(ControlPlaneClientConfig config, Executor executor) {
        return open(config, Clock.systemUTC(), requireNonNull(executor, "executor"));
    }

    static ControlPlaneClient open(ControlPlaneClientConfig config, Clock clock) {
        return open(config, clock, null);
    }

    private static ControlPlaneClient open(ControlPlaneClientConfig config, Clock clock, Executor executor) {
        requireNonNull(config, "config");
        requireNonNull(clock, "clock");
        return new ControlPlaneClient(config, HttpTransport.open(config, clock, executor));
    }

    public ControlPlaneClientConfig config() {
        return config;
    }

    /** {@code GET /v1/health}: returns when the server answers 200. */
    public void health() {
        call("health", request("/v1/health").GET(), false, null, 200);
    }

    /**
     * {@code POST /v1/certificates}: a certificate for the key of {@code csrPem}. With a {@code token} (a join token or
     * a service-account token) the request goes over a connection without a client certificate, so the server sees
     * one credential; with null, the current client certificate authenticates the renewal.
     */
    public IssuedCertificate requestCertificate(String csrPem, BootstrapToken token) {
        return requestCertificate(csrPem, token == null ? null : token.value());
    }

    /**
     * {@code POST /v1/certificates} with a bearer token of either kind (a join token or a Kubernetes service-account
     * token; the control plane tells them apart by shape), or without one (renewal with the client certificate).
     */
    public IssuedCertificate requestCertificate(String csrPem, String bearerToken) {
        requireNonNull(csrPem, "csrPem");
        String call = "POST /v1/certificates";
        HttpResponse<byte[]> answer = call(call, request("/v1/certificates")
                .POST(BodyPublishers.ofByteArray(ApiAnswers.json(Map.of("csr", csrPem))))
                .header("Content-Type", JSON_TYPE), bearerToken != null, bearerToken, 200);
        JsonNode body = ApiAnswers.object(call, 200, answer.body());
        try {
            return new IssuedCertificate(SpiffeId.parse(ApiAnswers.text(call, 200, body, "identity")),
                    ApiAnswers.text(call, 200, body, "certificateChain"), ApiAnswers.text(call, 200, body, "trustBundle"),
                    Instant.parse(ApiAnswers.text(call, 200, body, "notAfter")));
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw ControlPlaneException.badResponse(call, 200, e.getMessage());
        }
    }

    /** {@code POST /v1/registrations}; returns the registration's time to live ({@code expiresIn}). */
    public Duration register(String service, String instance, String address) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("service", segment("service", service));
        body.put("instance", segment("instance", instance));
        body.put("address", requireNonNull(address, "address"));
        String call = "POST /v1/registrations";
        HttpResponse<byte[]> answer = call(call, request("/v1/registrations")
                .POST(BodyPublishers.ofByteArray(ApiAnswers.json(body))).header("Content-Type", JSON_TYPE),
                false, null, 200);
        String expiresIn = ApiAnswers.text(call, 200, ApiAnswers.object(call, 200, answer.body()), "expiresIn");
        try {
            Duration ttl = Durations.parse(expiresIn);
            if (ttl.isZero()) {
                throw new IllegalArgumentException("expiresIn is 0");
            }
            return ttl;
        } catch (IllegalArgumentException e) {
            throw ControlPlaneException.badResponse(call, 200, e.getMessage());
        }
    }

    /** {@code DELETE /v1/registrations/{instance}}; an instance the server no longer knows is fine (404). */
    public void deregister(String instance) {
        call("DELETE /v1/registrations", request("/v1/registrations/" + segment("instance", instance)).DELETE(),
                false, null, 200, 204, 404);
    }

    /**
     * {@code GET /v1/snapshots/{ns}/{sa}?after=N&wait=S}: the first snapshot newer than {@code after}, or empty
     * when none appeared within {@code wait} (304). Completes on the client's threads, exceptionally with a
     * {@link ControlPlaneException} (wrapped in a {@link CompletionException} for dependent stages); cancelling the
     * future aborts the request.
     */
    public CompletableFuture<Optional<SignedSnapshot>> nextSnapshot(String namespace, String serviceAccount,
                                                                    long after, Duration wait) {
        CompletableFuture<SnapshotPoll> poll = pollSnapshot(namespace, serviceAccount, after, wait, null, -1);
        return HttpTransport.propagateCancel(poll, poll.thenApply(SnapshotPoll::snapshot));
    }

    /**
     * As {@link #nextSnapshot}, for a sidecar: when {@code ackVersion} is not negative the poll also carries
     * {@code instance}'s ACK of that version ({@code &instance=I&ack=V}), which a control plane that says so in
     * {@value #ACKS_ON_POLL_HEADER} records as {@code POST /v1/sidecars/status} would (an older one ignores it).
     */
    public CompletableFuture<SnapshotPoll> pollSnapshot(String namespace, String serviceAccount, long after,
                                                        Duration wait, String instance, long ackVersion) {
        return pollSnapshot(namespace, serviceAccount, after, wait, instance, ackVersion, -1);
    }

    /**
     * As {@link #pollSnapshot(String, String, long, Duration, String, long)}; with the ACK, when
     * {@code plaintextConnections} is not negative, the count of plaintext connections the sidecar's inbound
     * listener accepted since it started ({@code &plaintext=N}), which a control plane that does not know it ignores.
     */
    public CompletableFuture<SnapshotPoll> pollSnapshot(String namespace, String serviceAccount, long after,
                                                        Duration wait, String instance, long ackVersion,
                                                        long plaintextConnections) {
        requireNonNull(wait, "wait");
        if (after < 0 || wait.isNegative() || wait.toSeconds() > 60) {
            throw new IllegalArgumentException("after must be >= 0 and wait 0..60s");
        }
        String path = "/v1/snapshots/" + segment("namespace", namespace) + "/" + segment("serviceAccount", serviceAccount);
        String call = "GET " + path;
        String query = "?after=" + after + "&wait=" + wait.toSeconds();
        if (ackVersion >= 0) {
            query += "&instance=" + segment("instance", instance) + "&ack=" + ackVersion;
            if (plaintextConnections >= 0) {
                query += "&plaintext=" + plaintextConnections;
            }
        }
        HttpRequest.Builder request = request(path + query).timeout(config.requestTimeout().plus(wait)).GET();
        CompletableFuture<HttpResponse<byte[]>> sent = http.send(call, request, false, null);
        return HttpTransport.propagateCancel(sent, sent.thenApply(answer -> {
            boolean acksOnPoll = answer.headers().firstValue(ACKS_ON_POLL_HEADER).isPresent();
            if (answer.statusCode() == 304) {
                return new SnapshotPoll(Optional.empty(), acksOnPoll);
            }
            if (answer.statusCode() != 200) {
                throw ApiAnswers.error(call, answer.statusCode(), answer.body());
            }
            String version = answer.headers().firstValue(VERSION_HEADER).orElse(null);
            if (version == null || !version.matches("0|[1-9][0-9]{0,18}")) {
                throw ControlPlaneException.badResponse(call, 200, "header " + VERSION_HEADER + " is "
                        + (version == null ? "missing" : "'" + version + "'"));
            }
            return new SnapshotPoll(Optional.of(new SignedSnapshot(Long.parseLong(version),
                    new String(answer.body(), StandardCharsets.US_ASCII))), acksOnPoll);
        }));
    }

    /** {@code POST /v1/sidecars/status}: what this sidecar did with {@code version}; {@code error} for a NACK. */
    public void reportStatus(String instance, String version, SnapshotResult result, String error) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("instance", segment("instance", instance));
        body.put("version", requireNonNull(version, "version"));
        body.put("result", requireNonNull(result, "result").name());
        if (error != null) {
            body.put("error", error);
        }
        call("POST /v1/sidecars/status", request("/v1/sidecars/status")
                .POST(BodyPublishers.ofByteArray(ApiAnswers.json(body))).header("Content-Type", JSON_TYPE),
                false, null, 204, 200);
    }

    /** {@code PUT /v1/namespaces/{ns}/{plural}/{name}}: create or replace one document (YAML or JSON). */
    public WrittenResource putResource(ResourceKind kind, String namespace, String name, byte[] body, String contentType) {
        return write("PUT", namespacedPath(kind, namespace) + "/" + segment("name", name), body, contentType);
    }

    /** {@code POST /v1/namespaces/{ns}/{plural}}: create only (409 when it exists). */
    public WrittenResource createResource(ResourceKind kind, String namespace, byte[] body, String contentType) {
        return write("POST", namespacedPath(kind, namespace), body, contentType);
    }

    /** {@code GET /v1/namespaces/{ns}/{plural}/{name}}: the document as stored. */
    public JsonNode getResource(ResourceKind kind, String namespace, String name) {
        return getJson(namespacedPath(kind, namespace) + "/" + segment("name", name));
    }

    /** {@code {"revision", "items"}} of one namespace, or of all when {@code namespace} is null. */
    public JsonNode listResources(ResourceKind kind, String namespace) {
        return getJson(namespace == null ? "/v1/" + namespacedKind(kind).plural() : namespacedPath(kind, namespace));
    }

    /** {@code DELETE}, conditional on {@code resourceVersion} when not null; returns {@code {"deleted", "revision"}}. */
    public JsonNode deleteResource(ResourceKind kind, String namespace, String name, String resourceVersion) {
        String path = namespacedPath(kind, namespace) + "/" + segment("name", name);
        if (resourceVersion != null) {
            if (!resourceVersion.matches("[0-9]{1,19}")) {
                throw new IllegalArgumentException("resourceVersion '" + resourceVersion + "' is not a decimal number");
            }
            path += "?resourceVersion=" + resourceVersion;
        }
        String call = "DELETE " + path;
        return ApiAnswers.object(call, 200, call(call, request(path).DELETE(), false, null, 200).body());
    }

    public JsonNode getMeshConfig() {
        return getJson("/v1/meshconfig");
    }

    public WrittenResource putMeshConfig(byte[] body, String contentType) {
        return write("PUT", "/v1/meshconfig", body, contentType);
    }

    /** {@code GET /v1/sidecars}: {@code {"sidecars": [...]}}. */
    public JsonNode sidecars() {
        return getJson("/v1/sidecars");
    }

    /**
     * {@code GET /v1/sidecars?plaintextSince=S}: only the sidecars whose plaintext count grew since {@code since}
     * (an RFC 3339 time or a duration back from now, checked by the control plane: 400 naming
     * {@code plaintextSince}).
     */
    public JsonNode sidecarsWithPlaintextSince(String since) {
        return getJson("/v1/sidecars?plaintextSince=" + URLEncoder.encode(requireNonNull(since, "since"),
                StandardCharsets.UTF_8));
    }

    /**
     * {@code GET /v1/audit}: {@code {"items": [...], "omitted": N}}, the audit trail oldest first. Each argument may be
     * null (the server's default): {@code since} an RFC 3339 time or a duration back from now ({@code 1h}), checked by
     * the control plane (400 naming {@code since}); {@code namespace} a name; {@code limit} positive.
     */
    public JsonNode audit(String since, String namespace, Integer limit) {
        StringBuilder query = new StringBuilder();
        if (since != null) {
            query.append("&since=").append(java.net.URLEncoder.encode(since, java.nio.charset.StandardCharsets.UTF_8));
        }
        if (namespace != null) {
            query.append("&namespace=").append(segment("namespace", namespace));
        }
        if (limit != null) {
            if (limit < 1) {
                throw new IllegalArgumentException("limit must be positive, not " + limit);
            }
            query.append("&limit=").append(limit);
        }
        return getJson("/v1/audit" + (query.isEmpty() ? "" : "?" + query.substring(1)));
    }

    /**
     * {@code GET /v1/snapshot-keys}: the control plane's public snapshot-signing keys (a JWK Set, as JSON text),
     * fetched over the verified connection; {@code outrider ctl explain} checks snapshots with them.
     */
    public String snapshotKeys() {
        return new String(call("snapshot-keys", request("/v1/snapshot-keys").GET(), false, null, 200).body(),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    /** {@code POST /v1/join-tokens}; {@code ttl} null for the server's default. */
    public JoinToken createJoinToken(String namespace, String serviceAccount, Duration ttl) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("namespace", segment("namespace", namespace));
        body.put("serviceAccount", segment("serviceAccount", serviceAccount));
        if (ttl != null) {
            body.put("ttl", Durations.format(ttl));
        }
        String call = "POST /v1/join-tokens";
        HttpResponse<byte[]> answer = call(call, request("/v1/join-tokens")
                .POST(BodyPublishers.ofByteArray(ApiAnswers.json(body))).header("Content-Type", JSON_TYPE),
                false, null, 201, 200);
        JsonNode json = ApiAnswers.object(call, answer.statusCode(), answer.body());
        try {
            return new JoinToken(ApiAnswers.text(call, 201, json, "token"),
                    SpiffeId.parse(ApiAnswers.text(call, 201, json, "identity")),
                    Instant.parse(ApiAnswers.text(call, 201, json, "expiresAt")));
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw ControlPlaneException.badResponse(call, answer.statusCode(), e.getMessage());
        }
    }

    private WrittenResource write(String method, String path, byte[] body, String contentType) {
        requireNonNull(body, "body");
        requireNonNull(contentType, "contentType");
        String call = method + " " + path;
        HttpResponse<byte[]> answer = call(call, request(path).method(method, BodyPublishers.ofByteArray(body))
                .header("Content-Type", contentType), false, null, 200, 201);
        return new WrittenResource(answer.statusCode() == 201, ApiAnswers.object(call, answer.statusCode(), answer.body()));
    }

    private JsonNode getJson(String path) {
        String call = "GET " + path;
        return ApiAnswers.object(call, 200, call(call, request(path).GET(), false, null, 200).body());
    }

    private static ResourceKind namespacedKind(ResourceKind kind) {
        if (!requireNonNull(kind, "kind").namespaced()) {
            throw new IllegalArgumentException(kind.kind() + " is not namespaced; use getMeshConfig/putMeshConfig");
        }
        return kind;
    }

    private static String namespacedPath(ResourceKind kind, String namespace) {
        return "/v1/namespaces/" + segment("namespace", namespace) + "/" + namespacedKind(kind).plural();
    }

    /** A value put into a URL path: refused unless plainly safe, so no name can change the path it is put in. */
    public static String segment(String what, String value) {
        requireNonNull(value, what);
        if (!SEGMENT.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " '" + value + "' is not a valid name (letters, digits, '.',"
                    + " '-', '_', starting with a letter or digit, at most 253 characters)");
        }
        return value;
    }


    private HttpRequest.Builder request(String pathAndQuery) {
        return http.request(pathAndQuery);
    }

    private HttpResponse<byte[]> call(String call, HttpRequest.Builder request, boolean anonymousOnly, String token,
                                      int... expected) {
        return http.call(call, request, anonymousOnly, token, expected);
    }

    /** Stops at once: calls in flight fail, threads end. */
    @Override
    public void close() {
        http.close();
    }
}
