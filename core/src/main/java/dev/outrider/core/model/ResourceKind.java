package dev.outrider.core.model;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The kinds of resource the control plane's API serves and stores (docs/control-plane.md, "Resources"): the four
 * policy kinds the sidecar enforces, Service, Sidecar (which services a workload's snapshot carries), ServiceEntry
 * (the egress allow-list), and the one
 * MeshConfig. {@link #kind()} is the document's
 * {@code kind} and the store's kind; {@link #plural()} is the URL segment, null for MeshConfig, which has its own
 * URL ({@code /v1/meshconfig}) and no namespace. An operator may name a kind by the kind itself, its singular or
 * plural in lower case, or a short name ({@link #resolve}).
 */
public enum ResourceKind {
    AUTHORIZATION_POLICY("AuthorizationPolicy", "authorizationpolicies", "ap"),
    REQUEST_AUTHENTICATION("RequestAuthentication", "requestauthentications", "ra"),
    RATE_LIMIT_POLICY("RateLimitPolicy", "ratelimitpolicies", "rlp"),
    /** Istio's PeerAuthentication: whether a workload's inbound port takes mTLS, plaintext or both. */
    PEER_AUTHENTICATION("PeerAuthentication", "peerauthentications", "pa"),
    SERVICE("Service", "services", "svc"),
    /**
     * Istio's Sidecar (egress hosts): which services the snapshots of the workloads it selects carry. Its URL segment
     * is {@code sidecarscopes}, since {@code /v1/sidecars} is the sidecars' status list.
     */
    SIDECAR("Sidecar", "sidecarscopes", "sc"),
    /** Istio's ServiceEntry: an external service on the egress allow-list (read by the sidecar's document reader). */
    SERVICE_ENTRY("ServiceEntry", "serviceentries", "se"),
    /** One per mesh, named {@code default}, at {@code /v1/meshconfig}. */
    MESH_CONFIG("MeshConfig", null, "mc");

    private final String kind;
    private final String plural;
    private final String shortName;
    private final List<String> names;

    ResourceKind(String kind, String plural, String shortName) {
        this.kind = kind;
        this.plural = plural;
        this.shortName = shortName;
        String singular = kind.toLowerCase(Locale.ROOT);
        this.names = List.of(singular, plural == null ? singular : plural, shortName, singular + "s");
    }

    /** The document's {@code kind} ({@code AuthorizationPolicy}), also the store's kind. */
    public String kind() {
        return kind;
    }

    /** The URL segment ({@code authorizationpolicies}); null for {@link #MESH_CONFIG}. */
    public String plural() {
        return plural;
    }

    /** Lower-case singular, as ctl prints it: {@code authorizationpolicy}. */
    public String singular() {
        return names.getFirst();
    }

    /** Whether resources of this kind live in a namespace (all but MeshConfig). */
    public boolean namespaced() {
        return plural != null;
    }

    /**
     * Whether the sidecar enforces documents of this kind (they go into snapshots' policy text, and the sidecar's
     * document reader validates them): the four policy kinds and ServiceEntry.
     */
    public boolean isPolicy() {
        return this == AUTHORIZATION_POLICY || this == REQUEST_AUTHENTICATION || this == RATE_LIMIT_POLICY
                || this == PEER_AUTHENTICATION || this == SERVICE_ENTRY;
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

    /** The kind whose document {@code kind} is {@code kind} (exact, as the API compares it); empty for anything else, or null. */
    public static Optional<ResourceKind> byKind(String kind) {
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
            known.append(known.isEmpty() ? "" : ", ").append(k.singular()).append(" (").append(k.shortName).append(')');
        }
        throw new IllegalArgumentException("unknown resource kind '" + name + "'; known: " + known);
    }
}
