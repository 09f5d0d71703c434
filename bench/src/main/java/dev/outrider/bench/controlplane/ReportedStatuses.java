package dev.outrider.bench.controlplane;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.client.ControlPlaneClient;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the control plane shows of the sidecars ({@code GET /v1/sidecars}), asked of several replicas and merged by
 * instance name. A replica lists the sidecars that registered or reported to it (statuses are kept in each
 * replica's memory today); should every replica list every sidecar, the merge gives the same answer. Per
 * instance the entry with the highest {@code appliedVersion} wins, and of equal ones the earliest
 * {@code lastSeen}: the replica that recorded the ACK first.
 *
 * <p>Not thread-safe: one benchmark thread polls.
 */
final class ReportedStatuses {
    private final List<ControlPlaneClient> admins;

    /** @param admins an admin client per replica, in replica order */
    ReportedStatuses(List<ControlPlaneClient> admins) {
        this.admins = List.copyOf(admins);
        if (this.admins.isEmpty()) {
            throw new IllegalArgumentException("no replica to ask");
        }
    }

    /** Every replica's list, merged: instance → entry. */
    Map<String, JsonNode> all() {
        Map<String, JsonNode> merged = new HashMap<>();
        for (ControlPlaneClient admin : admins) {
            for (JsonNode entry : admin.sidecars().path("sidecars")) {
                merged.merge(entry.path("instance").asText(), entry, ReportedStatuses::better);
            }
        }
        return merged;
    }

    private static JsonNode better(JsonNode a, JsonNode b) {
        long va = a.path("appliedVersion").asLong(-1);
        long vb = b.path("appliedVersion").asLong(-1);
        if (va != vb) {
            return va > vb ? a : b;
        }
        return lastSeen(a).compareTo(lastSeen(b)) <= 0 ? a : b;
    }

    /** The entry's {@code lastSeen}; {@link Instant#MAX} when missing or unreadable. */
    static Instant lastSeen(JsonNode entry) {
        try {
            return Instant.parse(entry.path("lastSeen").asText());
        } catch (DateTimeParseException e) {
            return Instant.MAX;
        }
    }
}
