package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.server.Access;
import dev.outrider.controlplane.server.ApiException;
import dev.outrider.controlplane.server.ApiRequest;
import dev.outrider.controlplane.server.ApiResponse;
import dev.outrider.controlplane.server.Json;
import dev.outrider.controlplane.server.Router;
import dev.outrider.controlplane.sidecars.SidecarStatuses;
import dev.outrider.controlplane.sidecars.SidecarView;
import dev.outrider.controlplane.snapshot.SnapshotHub;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.time.Clock;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static java.util.Objects.requireNonNull;

/**
 * What sidecars did with their snapshots (docs/control-plane.md "Snapshots"), kept by {@link SidecarStatuses}
 * (in memory, or written to a shared store too):
 * <ul>
 *   <li>{@code POST /v1/sidecars/status} (sidecar certificate) {@code {"instance", "version", "result", "error"}}
 *       → 204 once kept (parked off the event loop while a shared store writes it; 503 when that fails);</li>
 *   <li>{@code GET /v1/sidecars[?plaintextSince=1h]} (admin) → {@code {"sidecars": [{"identity", "instance",
 *       "service", "address", "lastSeen", "latestVersion", "appliedVersion", "state", "error", "plaintextConnections",
 *       "plaintextLastGrew"}]}} (on a worker: it may read the store); versions and counts as decimal strings, fields
 *       without a value left out. {@code plaintextSince} (an RFC 3339 time or a duration back from now) keeps only
 *       the sidecars whose plaintext count grew since then: the workloads that still have callers without a sidecar.
 *       </li>
 * </ul>
 */
public final class SidecarRoutes {
    /** The query parameter of {@code GET /v1/sidecars}. */
    static final String PLAINTEXT_SINCE = "plaintextSince";

    private final SidecarStatuses statuses;
    private final SnapshotHub hub;
    private final Clock clock;

    public SidecarRoutes(SidecarStatuses statuses, SnapshotHub hub, Clock clock) {
        this.statuses = requireNonNull(statuses, "statuses");
        this.hub = requireNonNull(hub, "hub");
        this.clock = requireNonNull(clock, "clock");
    }

    public void register(Router.Builder routes) {
        routes.route(HttpMethod.POST, "/v1/sidecars/status", Access.WORKLOAD,
                this::report);
        routes.blocking(HttpMethod.GET, "/v1/sidecars", Access.ADMIN, request -> list(request));
    }

    CompletableFuture<ApiResponse> report(ApiRequest request) {
        WorkloadIdentity caller = Callers.workload(request.caller(), "reporting status");
        ObjectNode body = Json.object(request, Set.of("instance", "version", "result", "error"));
        String instance = Json.requiredText(body, "instance");
        String version = Json.requiredText(body, "version");
        String result = Json.requiredText(body, "result");
        String error = error(body);
        CompletableFuture<Void> kept;
        try {
            kept = statuses.report(caller, instance, version, result, error);
        } catch (IllegalArgumentException e) {
            String message = e.getMessage() == null ? "invalid status report" : e.getMessage();
            int colon = message.indexOf(": ");
            String field = colon > 0 ? message.substring(0, colon) : null;
            throw field != null && Set.of("instance", "version", "result", "error").contains(field)
                    ? ApiException.invalid(field, message) : ApiException.invalid(message);
        }
        return kept.handle((ok, failure) -> {
            if (failure != null) {
                throw StoreErrors.translate(failure);
            }
            return ApiResponse.empty(HttpResponseStatus.NO_CONTENT);
        });
    }

    ApiResponse list(ApiRequest request) {
        AuditRoutes.onlyParameters(request, Set.of(PLAINTEXT_SINCE), PLAINTEXT_SINCE);
        Instant plaintextSince = AuditRoutes.since(PLAINTEXT_SINCE, request.queryParam(PLAINTEXT_SINCE), clock.instant());
        return StoreErrors.call(() -> list(plaintextSince));
    }

    private ApiResponse list(Instant plaintextSince) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode sidecars = body.putArray("sidecars");
        for (SidecarView view : statuses.list(hub::latestVersion)) {
            if (plaintextSince != null && (view.plaintextLastGrew() == null
                    || view.plaintextLastGrew().isBefore(plaintextSince))) {
                continue;
            }
            ObjectNode s = sidecars.addObject();
            s.put("identity", view.identity());
            s.put("instance", view.instance());
            putIfPresent(s, "service", view.service());
            putIfPresent(s, "address", view.address());
            s.put("lastSeen", view.lastSeen().toString());
            putIfPresent(s, "latestVersion", view.latestVersion() == null ? null : view.latestVersion().toString());
            putIfPresent(s, "appliedVersion", view.appliedVersion() == null ? null : view.appliedVersion().toString());
            s.put("state", view.state());
            putIfPresent(s, "error", view.error());
            putIfPresent(s, "plaintextConnections", view.plaintextConnections() == null ? null
                    : view.plaintextConnections().toString());
            putIfPresent(s, "plaintextLastGrew", view.plaintextLastGrew() == null ? null
                    : view.plaintextLastGrew().toString());
        }
        return ApiResponse.json(HttpResponseStatus.OK, body);
    }

    /** The optional NACK reason: a string (empty allowed), or absent/null. */
    private static String error(ObjectNode body) {
        var error = body.get("error");
        if (error == null || error.isNull()) {
            return null;
        }
        if (!error.isTextual()) {
            throw ApiException.invalid("error", "field 'error' must be a string");
        }
        return error.textValue();
    }

    private static void putIfPresent(ObjectNode node, String field, String value) {
        if (value != null) {
            node.put(field, value);
        }
    }
}
