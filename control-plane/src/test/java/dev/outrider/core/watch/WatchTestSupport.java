package dev.outrider.core.watch;

import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.core.snapshot.WorkloadSnapshot;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the watch tests against a real control plane write and check. */
final class WatchTestSupport {
    private WatchTestSupport() {
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
