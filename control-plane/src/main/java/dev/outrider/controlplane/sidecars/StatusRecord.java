package dev.outrider.controlplane.sidecars;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.sidecars.SidecarStatuses.Status;
import dev.outrider.core.model.SpiffeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * The stored form of one sidecar instance's status (a record of space {@value SidecarStatuses#SPACE}):
 * {@code {"identity":"spiffe://...","instance":"orders-1","lastSeen":"2026-...Z","service":"orders",
 * "address":"10.0.0.5:15006","appliedVersion":"12","nackVersion":"13","error":"...","plaintextConnections":"4",
 * "plaintextLastGrew":"2026-...Z"}}, the last seven optional; versions and counts as decimal strings. A record
 * written before the plaintext fields existed reads as never reported. Stateless.
 */
record StatusRecord(WorkloadIdentity identity, String instance, Status status) {
    private static final Logger log = LoggerFactory.getLogger(StatusRecord.class);
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    static byte[] write(WorkloadIdentity identity, String instance, Status status) {
        ObjectNode node = JSON.createObjectNode()
                .put("identity", identity.toString())
                .put("instance", instance)
                .put("lastSeen", status.lastSeen().toString());
        putIfPresent(node, "service", status.service());
        putIfPresent(node, "address", status.address());
        putIfPresent(node, "appliedVersion", status.appliedVersion() == null ? null : status.appliedVersion().toString());
        putIfPresent(node, "nackVersion", status.nackVersion() == null ? null : status.nackVersion().toString());
        putIfPresent(node, "error", status.nackError());
        if (status.plaintext() != null) {
            node.put("plaintextConnections", Long.toString(status.plaintext().connections()));
            putIfPresent(node, "plaintextLastGrew", status.plaintext().lastGrew() == null ? null
                    : status.plaintext().lastGrew().toString());
        }
        try {
            return JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e); // a tree of strings always serializes
        }
    }

    /** The status of a stored record; null (logged) for one that cannot be read, so one bad record hides no other. */
    static StatusRecord read(byte[] raw) {
        try {
            return parse(raw);
        } catch (IllegalArgumentException e) {
            log.warn("a stored sidecar status is left out: {}", e.getMessage());
            return null;
        }
    }

    /** @throws IllegalArgumentException naming what is wrong */
    static StatusRecord parse(byte[] raw) {
        try {
            JsonNode node = JSON.readTree(raw);
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException("not a JSON object");
            }
            SpiffeId id = SpiffeId.parse(text(node, "identity", true));
            WorkloadIdentity identity = new WorkloadIdentity(id.trustDomain(), id.namespace(), id.serviceAccount());
            Long plaintextConnections = version(node, "plaintextConnections");
            String grew = text(node, "plaintextLastGrew", false);
            Status status = new Status(text(node, "service", false), text(node, "address", false),
                    Instant.parse(text(node, "lastSeen", true)), version(node, "appliedVersion"),
                    version(node, "nackVersion"), text(node, "error", false), plaintextConnections == null ? null
                    : new SidecarStatuses.Plaintext(plaintextConnections, grew == null ? null : Instant.parse(grew)));
            return new StatusRecord(identity, text(node, "instance", true), status);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a sidecar status record: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode node, String field, boolean required) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            if (required) {
                throw new IllegalArgumentException("field '" + field + "' is missing");
            }
            return null;
        }
        if (!value.isTextual()) {
            throw new IllegalArgumentException("field '" + field + "' is not a string");
        }
        return value.textValue();
    }

    private static Long version(JsonNode node, String field) {
        String text = text(node, field, false);
        return text == null ? null : Long.valueOf(text);
    }

    private static void putIfPresent(ObjectNode node, String field, String value) {
        if (value != null) {
            node.put(field, value);
        }
    }
}
