package dev.outrider.core.model;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResourceKindTest {
    @Test
    void resourceKindsByAnyName() {
        for (String name : new String[] {"ap", "AP", "authorizationpolicy", "AuthorizationPolicies", "AuthorizationPolicy"}) {
            assertThat(ResourceKind.resolve(name)).isEqualTo(ResourceKind.AUTHORIZATION_POLICY);
        }
        assertThat(ResourceKind.resolve("svc")).isEqualTo(ResourceKind.SERVICE);
        assertThat(ResourceKind.resolve("rlp")).isEqualTo(ResourceKind.RATE_LIMIT_POLICY);
        assertThat(ResourceKind.resolve("ra")).isEqualTo(ResourceKind.REQUEST_AUTHENTICATION);
        for (String name : new String[] {"pa", "PeerAuthentication", "peerauthentications", "peerauthentication"}) {
            assertThat(ResourceKind.resolve(name)).isEqualTo(ResourceKind.PEER_AUTHENTICATION);
        }
        assertThat(ResourceKind.resolve("meshconfig")).isEqualTo(ResourceKind.MESH_CONFIG);
        for (String name : new String[] {"Sidecar", "sidecar", "sidecars", "sidecarscopes", "sc"}) {
            assertThat(ResourceKind.resolve(name)).isEqualTo(ResourceKind.SIDECAR);
        }
        for (String name : new String[] {"ServiceEntry", "serviceentry", "serviceentries", "se"}) {
            assertThat(ResourceKind.resolve(name)).isEqualTo(ResourceKind.SERVICE_ENTRY);
        }
        assertThat(ResourceKind.byPlural("serviceentries")).contains(ResourceKind.SERVICE_ENTRY);
        assertThat(ResourceKind.byKind("Service")).contains(ResourceKind.SERVICE);
        assertThat(ResourceKind.byKind("service")).isEmpty();
        assertThatThrownBy(() -> ResourceKind.resolve("gw")).hasMessageContaining("known: authorizationpolicy (ap), "
                + "requestauthentication (ra), ratelimitpolicy (rlp), peerauthentication (pa), service (svc), sidecar (sc), serviceentry (se), meshconfig (mc)");
    }

    @Test
    void kindsAndPlurals() {
        assertThat(ResourceKind.byPlural("authorizationpolicies")).contains(ResourceKind.AUTHORIZATION_POLICY);
        assertThat(ResourceKind.byPlural("requestauthentications")).contains(ResourceKind.REQUEST_AUTHENTICATION);
        assertThat(ResourceKind.byPlural("ratelimitpolicies")).contains(ResourceKind.RATE_LIMIT_POLICY);
        assertThat(ResourceKind.byPlural("services")).contains(ResourceKind.SERVICE);
        assertThat(ResourceKind.byPlural("peerauthentications")).contains(ResourceKind.PEER_AUTHENTICATION);
        // Not "sidecars": GET /v1/sidecars is the sidecars' status list, which a list of every Sidecar would shadow.
        assertThat(ResourceKind.byPlural("sidecarscopes")).contains(ResourceKind.SIDECAR);
        assertThat(ResourceKind.byPlural("sidecars")).isEmpty();
        assertThat(ResourceKind.SIDECAR.namespaced()).isTrue();
        assertThat(ResourceKind.SIDECAR.isPolicy()).isFalse();
        assertThat(ResourceKind.byPlural("meshconfig")).isEmpty();
        assertThat(ResourceKind.byPlural("Services")).isEmpty();
        assertThat(ResourceKind.byPlural(null)).isEmpty();
        assertThat(ResourceKind.byKind("MeshConfig")).contains(ResourceKind.MESH_CONFIG);
        assertThat(ResourceKind.MESH_CONFIG.namespaced()).isFalse();
        assertThat(ResourceKind.MESH_CONFIG.plural()).isNull();
        assertThat(ResourceKind.SERVICE.namespaced()).isTrue();
        assertThat(List.of(ResourceKind.values())).filteredOn(ResourceKind::isPolicy)
                .containsExactly(ResourceKind.AUTHORIZATION_POLICY, ResourceKind.REQUEST_AUTHENTICATION, ResourceKind.RATE_LIMIT_POLICY,
                        ResourceKind.PEER_AUTHENTICATION, ResourceKind.SERVICE_ENTRY);
    }
}
