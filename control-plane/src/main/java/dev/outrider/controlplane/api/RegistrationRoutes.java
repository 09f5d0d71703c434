package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.registry.Registration;
import dev.outrider.controlplane.registry.RegistryException;
import dev.outrider.controlplane.registry.ServiceRegistry;
import dev.outrider.controlplane.server.Access;
import dev.outrider.controlplane.server.ApiException;
import dev.outrider.controlplane.server.ApiRequest;
import dev.outrider.controlplane.server.ApiResponse;
import dev.outrider.controlplane.server.Json;
import dev.outrider.controlplane.server.Router;
import dev.outrider.controlplane.sidecars.SidecarStatuses;
import dev.outrider.core.document.Durations;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * The service registry (docs/control-plane.md "Service registry"), for sidecar certificates, on the worker
 * executor (a new registration is a store write):
 * <ul>
 *   <li>{@code POST /v1/registrations} {@code {"service", "instance", "address"}} → 200
 *       {@code {"instance", "expiresIn"}}; the namespace is the certificate's; 404 when the Service does not
 *       exist there, 403 when it does not list the certificate's service account.</li>
 *   <li>{@code DELETE /v1/registrations/{instance}} → 204, or 404 when no such instance is registered.</li>
 * </ul>
 * Endpoint changes reach the snapshot hub through the registry's own listener.
 */
public final class RegistrationRoutes {
    private final ServiceRegistry registry;
    private final SidecarStatuses statuses;

    public RegistrationRoutes(ServiceRegistry registry, SidecarStatuses statuses) {
        this.registry = requireNonNull(registry, "registry");
        this.statuses = requireNonNull(statuses, "statuses");
    }

    public void register(Router.Builder routes) {
        routes.blocking(HttpMethod.POST, "/v1/registrations", Access.WORKLOAD, this::register);
        routes.blocking(HttpMethod.DELETE, "/v1/registrations/{instance}", Access.WORKLOAD, this::deregister);
    }

    ApiResponse register(ApiRequest request) {
        WorkloadIdentity caller = Callers.workload(request.caller(), "registering");
        ObjectNode body = Json.object(request, Set.of("service", "instance", "address"));
        String service = Json.requiredText(body, "service");
        String instance = Json.requiredText(body, "instance");
        String address = Json.requiredText(body, "address");
        Registration registration = StoreErrors.call(() -> {
            try {
                return registry.register(caller, service, instance, address);
            } catch (RegistryException e) {
                throw map(e);
            }
        });
        statuses.seen(caller, instance, service, address);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("instance", registration.instance());
        out.put("expiresIn", Durations.formatInSeconds(registry.ttl()));
        return ApiResponse.json(HttpResponseStatus.OK, out);
    }

    ApiResponse deregister(ApiRequest request) {
        WorkloadIdentity caller = Callers.workload(request.caller(), "deregistering");
        String instance = request.param("instance");
        boolean removed = StoreErrors.call(() -> {
            try {
                return registry.deregister(caller, instance);
            } catch (RegistryException e) {
                throw map(e);
            }
        });
        if (!removed) {
            throw ApiException.notFound("instance '" + instance + "' is not registered in namespace "
                    + caller.namespace());
        }
        return ApiResponse.empty(HttpResponseStatus.NO_CONTENT);
    }

    private static ApiException map(RegistryException e) {
        return switch (e.reason()) {
            case NOT_FOUND -> ApiException.notFound(e.getMessage());
            case FORBIDDEN -> ApiException.forbidden(e.getMessage());
            case INVALID -> e.field() == null ? ApiException.invalid(e.getMessage())
                    : ApiException.invalid(e.field(), e.getMessage());
        };
    }
}
