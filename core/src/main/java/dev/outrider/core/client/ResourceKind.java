package dev.outrider.core.client;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The kinds of resource the control plane's API stores (docs/control-plane.md, "Resources"), with the names an
 * operator may type for them: the kind, its singular and plural in lower case, and a short name.
 */
public enum ResourceKind {
    AUTHORIZATION_POLICY("AuthorizationPolicy", "authorizationpolicies", true, "ap"),
    REQUEST_AUTHENTICATION("RequestAuthentication", "requestauthentications", true, "ra"),
    RATE_LIMIT_POLICY("RateLimitPolicy", "ratelimitpolicies", true, "rlp"),
    SERVICE("Service", "services", true, "svc"),
    /** One per mesh, named {@code default}, at {@code /v1/meshconfig}. */
    MESH_CONFIG("MeshConfig", "meshconfig", false, "mc");

    private final String kind;
    private final String plural;
    private final boolean namespaced;
    private final List<String> names;

    ResourceKind(String kind, String plural, boolean namespaced, String shortName) {
        this.kind = kind;
        this.plural = plural;
        this.namespaced = namespaced;
        String singular = kind.toLowerCase(Locale.ROOT);
        this.names = List.of(singular, plural, shortName, singular + "s");
    }

    /** The {@code kind} field of its documents, e.g. {@code AuthorizationPolicy}. */
    public String kind() {
        return kind;
    }

    /** The URL segment, e.g. {@code authorizationpolicies}. */
    public String plural() {
        return plural;
    }

    /** Lower-case singular, as ctl prints it: {@code authorizationpolicy}. */
    public String singular() {
        return names.getFirst();
    }

    /** Whether resources of this kind live in a namespace (all but MeshConfig). */
    public boolean namespaced() {
        return namespaced;
    }

    /** The kind a document's {@code kind} field names (exact, as the API compares it). */
    public static Optional<ResourceKind> ofKind(String kind) {
        requireNonNull(kind, "kind");
        for (ResourceKind k : values()) {
            if (k.kind.equals(kind)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    /**
     * The kind an operator named: the kind itself, or its singular, plural or short name, in any case
     * ({@code AuthorizationPolicy}, {@code authorizationpolicies}, {@code ap}).
     *
     * @throws IllegalArgumentException listing the names accepted
     */
    public static ResourceKind resolve(String name) {
        requireNonNull(name, "name");
        String n = name.toLowerCase(Locale.ROOT);
        for (ResourceKind k : values()) {
            if (k.names.contains(n)) {
                return k;
            }
        }
        StringBuilder known = new StringBuilder();
        for (ResourceKind k : values()) {
            known.append(known.isEmpty() ? "" : ", ").append(k.singular()).append(" (").append(k.names.get(2)).append(')');
        }
        throw new IllegalArgumentException("unknown resource kind '" + name + "'; known: " + known);
    }
}
