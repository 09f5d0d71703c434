package dev.outrider.core.snapshot;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outrider.core.document.Durations;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.ServiceProtocol;
import dev.outrider.core.model.SpiffeId;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The payload of a signed snapshot: a JSON object with its fields always in this order (so the same snapshot
 * always serializes to the same bytes), every field required, no other field accepted.
 *
 * <pre>{@code
 * {"version":"42","workload":"spiffe://cluster.local/ns/shop/sa/orders","issuedAt":"2025-01-01T00:00:00Z",
 *  "policies":"apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\n...",
 *  "endpoints":[{"service":"payments","namespace":"shop","address":"10.0.0.7:8443",
 *                "identity":"spiffe://cluster.local/ns/shop/sa/payments","protocol":"http2"}]}
 * }</pre>
 *
 * A field added later is a new layout: the sidecar refuses what it does not understand rather than apply
 * part of it. Written with Jackson's tree model rather than data binding so the layout is visible here.
 *
 * <p>{@code rateLimitRedis} ({@code {"uri":"redis://redis:6379","passwordFile":"/run/secrets/redis","timeout":"5ms"}},
 * {@code passwordFile} optional, {@code "cluster":true} only for a Redis Cluster) is written only when the control plane passes a Redis on: a sidecar older than
 * the field keeps accepting snapshots without it.
 *
 * <p>The other optional field is an endpoint's {@code protocol} ({@code http1}, {@code http2} or {@code auto}),
 * added after the first layout: absent means {@code auto}, which is what sidecars used for every discovered
 * service before the field existed, so snapshots of an older control plane (and last-known-good copies of
 * them) stay readable. It is written only when it is not {@code auto}: a snapshot has one spelling, and a
 * sidecar older than the field keeps accepting snapshots whose services all use the default, while it refuses
 * one naming another protocol rather than silently speak the wrong one.
 */
final class SnapshotJson {
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final Set<String> SNAPSHOT_FIELDS = Set.of("version", "workload", "issuedAt", "policies", "endpoints",
            "rateLimitRedis");
    private static final Set<String> REDIS_FIELDS = Set.of("uri", "passwordFile", "timeout", "cluster");
    private static final Set<String> ENDPOINT_FIELDS = Set.of("service", "namespace", "address", "identity", "protocol");
    /** An endpoint without {@code protocol}: what sidecars used for discovered services before the field. */
    private static final ServiceProtocol ABSENT_PROTOCOL = ServiceProtocol.AUTO;

    private SnapshotJson() {
    }

    static byte[] write(WorkloadSnapshot snapshot) {
        ObjectNode root = JSON.createObjectNode()
                .put("version", snapshot.version())
                .put("workload", snapshot.workload().toString())
                .put("issuedAt", snapshot.issuedAt().toString())
                .put("policies", snapshot.policies());
        ArrayNode endpoints = root.putArray("endpoints");
        for (SnapshotEndpoint e : snapshot.endpoints()) {
            ObjectNode endpoint = endpoints.addObject()
                    .put("service", e.service().name())
                    .put("namespace", e.service().namespace())
                    .put("address", e.address())
                    .put("identity", e.identity().toString());
            if (e.protocol() != ABSENT_PROTOCOL) {
                endpoint.put("protocol", e.protocol().wireName());
            }
        }
        RedisSettings redis = snapshot.rateLimitRedis();
        if (redis != null) {
            ObjectNode r = root.putObject("rateLimitRedis").put("uri", redis.uri().toString());
            if (redis.passwordFile() != null) {
                r.put("passwordFile", redis.passwordFile().toString());
            }
            r.put("timeout", Durations.format(redis.timeout()));
            if (redis.cluster()) {
                r.put("cluster", true);
            }
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e); // a tree of strings always serializes
        }
    }

    /** @throws IllegalArgumentException naming the field that is missing or wrong */
    static WorkloadSnapshot read(byte[] json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a byte array does no I/O
        }
        requireObject(root, "snapshot", SNAPSHOT_FIELDS);
        String version = text(root, "", "version");
        String workload = text(root, "", "workload");
        String issuedAt = text(root, "", "issuedAt");
        String policies = text(root, "", "policies");
        JsonNode list = root.get("endpoints");
        if (list == null || !list.isArray()) {
            throw new FieldException("endpoints: must be an array");
        }
        List<SnapshotEndpoint> endpoints = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String at = "endpoints[" + i + "]";
            JsonNode e = list.get(i);
            requireObject(e, at, ENDPOINT_FIELDS);
            String service = text(e, at, "service");
            String namespace = text(e, at, "namespace");
            String address = text(e, at, "address");
            String identity = text(e, at, "identity");
            String protocol = e.has("protocol") ? text(e, at, "protocol") : null;
            endpoints.add(field(at, () -> new SnapshotEndpoint(new ServiceName(service, namespace), address,
                    field(at + ".identity", () -> SpiffeId.parse(identity)),
                    protocol == null ? ABSENT_PROTOCOL : field(at + ".protocol", () -> ServiceProtocol.of(protocol)))));
        }
        RedisSettings redis = root.has("rateLimitRedis") ? redis(root.get("rateLimitRedis")) : null;
        return field("snapshot", () -> new WorkloadSnapshot(version,
                field("workload", () -> SpiffeId.parse(workload)),
                field("issuedAt", () -> Instant.parse(issuedAt)),
                policies, endpoints, redis));
    }

    private static RedisSettings redis(JsonNode r) {
        String at = "rateLimitRedis";
        requireObject(r, at, REDIS_FIELDS);
        String uri = text(r, at, "uri");
        String passwordFile = r.has("passwordFile") ? text(r, at, "passwordFile") : null;
        String timeout = text(r, at, "timeout");
        JsonNode cluster = r.get("cluster");
        if (cluster != null && !cluster.isBoolean()) {
            throw new FieldException(at + ".cluster: must be true or false");
        }
        return field(at, () -> new RedisSettings(field(at + ".uri", () -> RedisSettings.uri(uri)),
                passwordFile == null ? null : field(at + ".passwordFile", () -> Path.of(passwordFile)),
                field(at + ".timeout", () -> Durations.parse(timeout)), cluster != null && cluster.booleanValue()));
    }

    private static void requireObject(JsonNode node, String at, Set<String> fields) {
        if (node == null || !node.isObject()) {
            throw new FieldException(at + ": must be an object");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!fields.contains(name)) {
                throw new FieldException(prefix(at) + name + ": unknown field");
            }
        }
    }

    private static String text(JsonNode node, String at, String name) {
        JsonNode value = node.get(name);
        if (value == null || !value.isTextual()) {
            throw new FieldException(prefix(at) + name + ": must be a string");
        }
        return value.textValue();
    }

    private static String prefix(String at) {
        return at.isEmpty() || at.equals("snapshot") ? "" : at + ".";
    }

    /** Runs a constructor or parser, prefixing its message with the field; an inner call's message is kept. */
    private static <T> T field(String at, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (DateTimeParseException e) {
            throw new FieldException(at + ": not an ISO-8601 instant (e.g. 2025-01-01T00:00:00Z)");
        } catch (InvalidPathException e) {
            throw new FieldException(at + ": not a path: " + e.getReason());
        } catch (FieldException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new FieldException(at + ": " + e.getMessage());
        }
    }

    /** A problem whose message already names its field. */
    private static final class FieldException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        FieldException(String message) {
            super(message);
        }
    }
}
