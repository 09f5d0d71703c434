package dev.outrider.controlplane.server;

import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RouterTest {
    private static final RouteHandler OK = r -> CompletableFuture.completedFuture(null);

    private final Router router = Router.builder(Runnable::run)
            .route(HttpMethod.GET, "/v1/{plural}", Access.ADMIN, OK)
            .route(HttpMethod.GET, "/v1/meshconfig", Access.ADMIN, OK)
            .route(HttpMethod.PUT, "/v1/meshconfig", Access.ADMIN, OK)
            .route(HttpMethod.GET, "/v1/namespaces/{ns}/{plural}/{name}", Access.ADMIN, OK)
            .route(HttpMethod.DELETE, "/v1/namespaces/{ns}/{plural}/{name}", Access.ADMIN, OK)
            .build();

    @Test
    void literalSegmentsWinOverParameters() {
        assertThat(router.match(HttpMethod.GET, List.of("v1", "meshconfig")).route().toString())
                .isEqualTo("GET /v1/meshconfig");
        assertThat(router.match(HttpMethod.GET, List.of("v1", "services")).params())
                .isEqualTo(Map.of("plural", "services"));
    }

    @Test
    void bindsEveryParameter() {
        assertThat(router.match(HttpMethod.DELETE, List.of("v1", "namespaces", "shop", "services", "orders")).params())
                .containsExactly(Map.entry("ns", "shop"), Map.entry("plural", "services"), Map.entry("name", "orders"));
    }

    @Test
    void unknownPathsAre404AndOtherMethods405WithAllow() {
        assertThatThrownBy(() -> router.match(HttpMethod.GET, List.of("v1", "namespaces", "shop")))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status().code()).isEqualTo(404))
                .hasMessage("no route for GET /v1/namespaces/shop");
        assertThatThrownBy(() -> router.match(HttpMethod.GET, List.of("v1", "namespaces", "", "services", "x")))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status().code()).isEqualTo(404));
        assertThatThrownBy(() -> router.match(HttpMethod.POST, List.of("v1", "meshconfig")))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status().code()).isEqualTo(405);
                    assertThat(e.headers()).containsEntry("Allow", "GET, PUT");
                });
    }

    @Test
    void duplicateRoutesAreABug() {
        assertThatThrownBy(() -> Router.builder(Runnable::run)
                .route(HttpMethod.GET, "/v1/x/{a}", Access.PUBLIC, OK)
                .route(HttpMethod.GET, "/v1/x/{a}", Access.PUBLIC, OK))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("duplicate route GET /v1/x/{a}");
    }
}
