package dev.outrider.controlplane.api;

import dev.outrider.controlplane.server.Access;
import dev.outrider.controlplane.server.ApiResponse;
import dev.outrider.controlplane.server.Router;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static java.util.Objects.requireNonNull;

/**
 * What anyone may read, answered on the event loop from memory: {@code GET /v1/health} and
 * {@code GET /v1/snapshot-keys} (the public JWK Set that verifies snapshots; public by nature).
 */
public final class PublicRoutes {
    private final byte[] snapshotKeys;

    /** @param snapshotKeys the public JWK Set as JSON (not copied; never written to) */
    public PublicRoutes(byte[] snapshotKeys) {
        this.snapshotKeys = requireNonNull(snapshotKeys, "snapshotKeys");
    }

    public void register(Router.Builder routes) {
        routes.route(HttpMethod.GET, "/v1/health", Access.PUBLIC, request -> CompletableFuture.completedFuture(
                ApiResponse.json(HttpResponseStatus.OK, Map.of("status", "ok"))));
        routes.route(HttpMethod.GET, "/v1/snapshot-keys", Access.PUBLIC, request -> CompletableFuture.completedFuture(
                ApiResponse.jsonBytes(HttpResponseStatus.OK, snapshotKeys)));
    }
}
