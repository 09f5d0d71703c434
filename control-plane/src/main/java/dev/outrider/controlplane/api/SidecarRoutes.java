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

import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static java.util.Objects.requireNonNull;

/**
 * What sidecars did with their snapshots (docs/control-plane.md "Snapshots"), kept by {@link SidecarStatuses}
 * (in memory, or written to a shared store too):
 * <ul>
 *   <li>{@code POST /v1/sidecars/status} (sidecar certificate) {@code {"instance", "version", "result", "error"}}
 *       → 204 once kept (parked off the event loop while a shared store writes it; 503 when that fails);</li>
 *   <li>{@code GET /v1/sidecars} (admin) → {@code {"sidecars": [{"identity", "instance", "service", "address",
 *       "lastSeen", "latestVersion", "appliedVersion", "state", "error"}]}} (on a worker: it may read the store); versions as decimal strings, fields
 *       without a value left out.</li>
 * </ul>
 */
public final class SidecarRoutes {
    private final SidecarStatuses statuses;
    private final SnapshotHub hub;

    public SidecarRoutes(SidecarStatuses statuses, SnapshotHub hub) {
        this.statuses = requireNonNull(statuses, "statuses");
        this.hub = requireNonNull(hub, "hub");
    }

    public void register(Router.Builder routes) {
        routes.route(HttpMethod.POST, "/v1/sidecars/status", Access.WORKLOAD,
                this::report);
        routes.blocking(HttpMethod.GET, "/v1/sidecars", Access.ADMIN, request -> StoreErrors.call(this::list));
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

    ApiResponse list() {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode sidecars = body.putArray("sidecars");
        for (SidecarView view : statuses.list(hub::latestVersion)) {
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
