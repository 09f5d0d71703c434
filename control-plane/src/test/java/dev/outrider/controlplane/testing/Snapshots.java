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

    public static WorkloadSnapshot verify(ApiClient client, HttpResponse<String> response, String namespace,
                                          String serviceAccount) throws Exception {
        JWKSet keys = JWKSet.parse(client.get("/v1/snapshot-keys").body());
        SpiffeId workload = SpiffeId.ofServiceAccount(TestMesh.TD, namespace, serviceAccount);
        return new SnapshotVerifier(keys, workload).verify(response.body());
    }
}
