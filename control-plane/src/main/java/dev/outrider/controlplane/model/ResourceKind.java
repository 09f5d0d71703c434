package dev.outrider.controlplane.model;

import java.util.Optional;

/**
 * The kinds of resource the control-plane API serves (docs/control-plane.md, "Resources"): the three policy
 * kinds the sidecar enforces, Service, and the one MeshConfig. {@link #kind()} is the document's {@code kind}
 * and the store's kind; {@link #plural()} is the URL segment, null for MeshConfig, which has its own URL
 * ({@code /v1/meshconfig}) and no namespace.
 */
public enum ResourceKind {
    AUTHORIZATION_POLICY("AuthorizationPolicy", "authorizationpolicies"),
    REQUEST_AUTHENTICATION("RequestAuthentication", "requestauthentications"),
    RATE_LIMIT_POLICY("RateLimitPolicy", "ratelimitpolicies"),
    SERVICE("Service", "services"),
    MESH_CONFIG("MeshConfig", null);

    private final String kind;
    private final String plural;

    ResourceKind(String kind, String plural) {
        this.kind = kind;
        this.plural = plural;
    }

    /** The document's {@code kind} ({@code AuthorizationPolicy}), also the store's kind. */
    public String kind() {
        return kind;
    }

    /** The URL segment ({@code authorizationpolicies}); null for {@link #MESH_CONFIG}. */
    public String plural() {
        return plural;
    }

    /** Whether resources of this kind live in a namespace (all but MeshConfig). */
    public boolean namespaced() {
        return plural != null;
    }

    /** Whether the sidecar enforces documents of this kind (they go into snapshots as policies). */
    public boolean isPolicy() {
        return this == AUTHORIZATION_POLICY || this == REQUEST_AUTHENTICATION || this == RATE_LIMIT_POLICY;
    }

    /** The kind whose URL segment is {@code plural} (exact, lower case); empty for anything else, or null. */
    public static Optional<ResourceKind> byPlural(String plural) {
        for (ResourceKind k : values()) {
            if (k.plural != null && k.plural.equals(plural)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    /** The kind whose document {@code kind} is {@code kind} (exact); empty for anything else, or null. */
    public static Optional<ResourceKind> byKind(String kind) {
        for (ResourceKind k : values()) {
            if (k.kind.equals(kind)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }
}
