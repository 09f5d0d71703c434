package dev.outrider.controlplane.testing;

import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.core.snapshot.WorkloadSnapshot;

import java.net.http.HttpResponse;

/** Verifies snapshots the API hands out as a sidecar would: with the public keys from {@code /v1/snapshot-keys}. */
public final class Snapshots {
    private Snapshots() {
    }

    /** The snapshot version an answer carries ({@code outrider-snapshot-version}). */
    public static long version(HttpResponse<String> snapshot) {
        return Long.parseLong(snapshot.headers().firstValue("outrider-snapshot-version").orElseThrow());
    }

    /** An AuthorizationPolicy allowing {@code method} to every caller, named {@code name}. */
    public static String allowPolicy(String name, String method) {
        return """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: %s}
                spec: {rules: [{to: [{operation: {methods: [%s]}}]}]}
                """.formatted(name, method);
    }

    public static WorkloadSnapshot verify(ApiClient client, HttpResponse<String> response, String namespace,
                                          String serviceAccount) throws Exception {
        JWKSet keys = JWKSet.parse(client.get("/v1/snapshot-keys").body());
        SpiffeId workload = SpiffeId.ofServiceAccount(TestMesh.TD, namespace, serviceAccount);
        return new SnapshotVerifier(keys, workload).verify(response.body());
    }
}
