package dev.outrider.core.watch;

import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.TestMesh;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.identity.CertificateFiles;
import dev.outrider.core.snapshot.WorkloadSnapshot;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the watch tests against a real control plane write and check. */
final class WatchTestSupport {
    private WatchTestSupport() {
    }

    /**
     * A client of {@code cp} with the certificate of {@code spiffe://cluster.local/ns/<namespace>/sa/<sa>}, its
     * files written to {@code dir} (named after the service account).
     */
    static ControlPlaneClient client(ControlPlaneFixture cp, Path dir, String namespace, String sa) throws Exception {
        TestMesh.Client workload = cp.mesh.workload(namespace, sa);
        StringBuilder chain = new StringBuilder();
        for (var c : workload.chain()) {
            chain.append(TestMesh.pem(c));
        }
        CertificateFiles files = new CertificateFiles(Files.writeString(dir.resolve(sa + "-cert.pem"), chain),
                Files.writeString(dir.resolve(sa + "-key.pem"), TestMesh.pkcs8(workload.keys().getPrivate())),
                Files.writeString(dir.resolve(sa + "-bundle.pem"), TestMesh.pem(cp.mesh.caCertificate())));
        return ControlPlaneClient.open(files.clientConfig(
                URI.create("https://127.0.0.1:" + cp.controlPlane.address().getPort()),
                ControlPlaneClientConfig.defaultServerIdentity("cluster.local")));
    }

    /** The last snapshot applied carries {@code policy}. */
    static boolean holds(List<WorkloadSnapshot> applied, String policy) {
        return !applied.isEmpty() && applied.getLast().policies().contains(policy);
    }

    /** An ALLOW-everything AuthorizationPolicy named {@code name} in namespace shop, written through {@code admin}. */
    static void putPolicy(ApiClient admin, String name) throws Exception {
        int status = admin.put("/v1/namespaces/shop/authorizationpolicies/" + name, "application/yaml",
                "apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nspec: {action: ALLOW, rules: [{}]}\n")
                .statusCode();
        assertThat(status).isIn(200, 201);
    }
}
