package dev.outrider.core.policy;

import java.time.Duration;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Per-client throttling of a workload's inbound requests (Outrider's own kind, {@code outrider.dev/v1} only).
 * Every rule whose {@code match} matches a request applies to it; the request is admitted only when each of
 * them admits it. Throttling runs after authentication and authorization, so a refused request costs the
 * caller none of its budget.
 *
 * <pre>{@code
 * apiVersion: outrider.dev/v1
 * kind: RateLimitPolicy
 * metadata: {name: orders-limits, namespace: shop, annotations: {outrider.dev/dry-run: "true"}}
 * spec:
 *   selector: {matchLabels: {app: orders}}
 *   legacyHeaders: true                 # also X-RateLimit-Limit/-Remaining/-Reset on 429 (default false)
 *   admittedHeaders: true               # RateLimit and RateLimit-Policy on admitted responses too (default false)
 *   global: {fallback: local, replicas: 4}   # global rules while Redis is unavailable (see Global)
 *   rules:
 *   - name: per-caller                  # RFC 1123 label, unique in the policy; default rule-<index>
 *     match: {methods: [GET, POST], paths: ["/api/*"], notPaths: ["/api/health"]}   # absent = every request
 *     key: source.principal             # absent = the workload as a whole (one budget for all callers)
 *     limit: {requests: 100, per: 1s, burst: 20}   # burst defaults to requests
 *     scope: global                     # the rate shared by every sidecar of the workload, in Redis (default local)
 *     maxInFlight: 10                   # concurrent requests per key (absent = not limited)
 *     overrides:
 *     - {value: "cluster.local/ns/batch/sa/nightly", limit: {requests: 1000, per: 1s}, maxInFlight: 50}
 * }</pre>
 *
 * @param legacyHeaders   add the pre-standard {@code X-RateLimit-*} fields to 429 responses
 * @param admittedHeaders add the {@code RateLimit} and {@code RateLimit-Policy} fields of the rate-limited rules to
 *                        admitted responses too (the quota left), not only to 429s; off by default so that
 *                        responses do not grow unasked
 * @param global          what the policy's {@link Scope#GLOBAL global} rules do while Redis cannot answer
 * @param rules           empty = the policy throttles nothing
 */
public record RateLimitPolicy(ObjectMeta metadata, WorkloadSelector selector, boolean legacyHeaders,
                              boolean admittedHeaders, Global global, List<Rule> rules) implements PolicyDocument {
    public RateLimitPolicy {
        requireNonNull(metadata, "metadata");
        selector = selector == null ? WorkloadSelector.ALL : selector;
        global = global == null ? Global.DEFAULT : global;
        rules = rules == null ? List.of() : List.copyOf(rules);
    }

    /** A policy with the default {@link Global} settings. */
    public RateLimitPolicy(ObjectMeta metadata, WorkloadSelector selector, boolean legacyHeaders,
                           boolean admittedHeaders, List<Rule> rules) {
        this(metadata, selector, legacyHeaders, admittedHeaders, Global.DEFAULT, rules);
    }

    /**
     * Where a rule's rate budget lives. Concurrency limits ({@code maxInFlight}) are always the sidecar's own.
     */
    public enum Scope {
        /** Each sidecar keeps its own budget: N sidecars of a workload admit N times the rate. */
        LOCAL,
        /** One budget per key shared by every sidecar of the workload, kept in Redis ({@code rateLimits.redis}). */
        GLOBAL
    }

    /** What a global rule does for a request while Redis cannot answer in time (down, or slower than its timeout). */
    public enum Fallback {
        /** The rule's limit, divided by {@link Global#replicas}, applied by each sidecar on its own. */
        LOCAL,
        /** The rule admits every request. */
        ADMIT,
        /** The rule refuses every request (429). */
        REFUSE
    }

    /**
     * The global rules' behaviour without Redis.
     *
     * @param fallback what they do then
     * @param replicas with {@link Fallback#LOCAL}: the workload's sidecar count the limit is shared by, so that each
     *                 sidecar's local budget is the limit divided by it (1 = each sidecar admits the whole limit)
     */
    public record Global(Fallback fallback, int replicas) {
        public static final Global DEFAULT = new Global(Fallback.LOCAL, 1);

        public Global {
            requireNonNull(fallback, "fallback");
            if (replicas < 1) {
                throw new IllegalArgumentException("replicas must be positive");
            }
        }
    }

    @Override
    public String kind() {
        return "RateLimitPolicy";
    }

    /**
     * One limit. At least one of {@code limit} and {@code maxInFlight} is set.
     *
     * @param name        unique within the policy; metrics and the {@code RateLimit-Policy} field name it
     * @param match       which requests the rule counts
     * @param key         what tells callers apart, or null: one budget for the whole workload
     * @param limit       the request rate, or null when the rule only limits concurrency
     * @param maxInFlight at most this many requests of one key in flight at once; 0 = not limited
     * @param overrides   other limits for particular key values (empty without a key)
     * @param scope       where the rate budget lives; {@link Scope#GLOBAL} needs a {@code limit}
     */
    public record Rule(String name, Match match, Key key, Limit limit, int maxInFlight, List<KeyOverride> overrides,
                       Scope scope) {
        public Rule {
            requireNonNull(name, "name");
            match = match == null ? Match.ANY : match;
            overrides = overrides == null ? List.of() : List.copyOf(overrides);
            scope = scope == null ? Scope.LOCAL : scope;
            if (scope == Scope.GLOBAL && limit == null) {
                throw new IllegalArgumentException("a global rule needs a limit");
            }
        }

        /** A {@link Scope#LOCAL local} rule. */
        public Rule(String name, Match match, Key key, Limit limit, int maxInFlight, List<KeyOverride> overrides) {
            this(name, match, key, limit, maxInFlight, overrides, Scope.LOCAL);
        }

        public boolean global() {
            return scope == Scope.GLOBAL;
        }
    }

    /**
     * Which requests a rule counts: methods and paths as in AuthorizationPolicy operations (exact,
     * {@code prefix*}, {@code *suffix}, {@code *}; paths are the normalized path without query). Within a
     * field the values OR, the fields AND; an empty field does not constrain.
     */
    public record Match(List<String> methods, List<String> notMethods, List<String> paths, List<String> notPaths) {
        public static final Match ANY = new Match(null, null, null, null);

        public Match {
            methods = copy(methods);
            notMethods = copy(notMethods);
            paths = copy(paths);
            notPaths = copy(notPaths);
        }
    }

    /**
     * What identifies a caller, written as the attribute names of AuthorizationPolicy conditions:
     * {@code source.principal} (the peer certificate's identity, Istio's form), {@code request.auth.principal}
     * ({@code iss/sub} of the verified JWT), {@code request.auth.claims[name]} (nested:
     * {@code [a][b]}), {@code request.headers[name]}, {@code source.ip}. A request without the attribute
     * (no certificate, no token, no header) is counted under one shared empty key of the rule.
     *
     * @param kind      which attribute
     * @param header    the header name in lower case, for {@link Kind#HEADER}; null otherwise
     * @param claimPath the claim's path, for {@link Kind#CLAIM}; empty otherwise
     */
    public record Key(Kind kind, String header, List<String> claimPath) {
        public Key {
            requireNonNull(kind, "kind");
            claimPath = copy(claimPath);
            if ((kind == Kind.HEADER) != (header != null)) {
                throw new IllegalArgumentException("a header name is required for, and only for, request.headers keys");
            }
            if ((kind == Kind.CLAIM) == claimPath.isEmpty()) {
                throw new IllegalArgumentException("a claim path is required for, and only for, request.auth.claims keys");
            }
        }

        public static Key of(Kind kind) {
            return new Key(kind, null, null);
        }

        /** The attribute name as written in the document ({@code request.auth.claims[groups][0]}). */
        public String attribute() {
            return switch (kind) {
                case SOURCE_PRINCIPAL -> "source.principal";
                case REQUEST_PRINCIPAL -> "request.auth.principal";
                case SOURCE_IP -> "source.ip";
                case HEADER -> "request.headers[" + header + "]";
                case CLAIM -> "request.auth.claims[" + String.join("][", claimPath) + "]";
            };
        }

        public enum Kind {
            SOURCE_PRINCIPAL, REQUEST_PRINCIPAL, CLAIM, HEADER, SOURCE_IP
        }
    }

    /**
     * A token bucket: {@code burst} requests at once, refilled at {@code requests} per {@code per}.
     *
     * @param requests how many requests per period, at least 1
     * @param per      the period, 1 ms to 24 h
     * @param burst    how many requests may come at once (the bucket's size), at least 1
     */
    public record Limit(long requests, Duration per, long burst) {
        public Limit {
            requireNonNull(per, "per");
            if (requests < 1 || burst < 1 || per.isNegative() || per.isZero()) {
                throw new IllegalArgumentException("requests, per and burst must be positive");
            }
        }

        /** Nanoseconds between two requests at the sustained rate (the bucket's refill interval). */
        public long intervalNanos() {
            return Math.max(1, per.toNanos() / requests);
        }
    }

    /**
     * Another limit for one key value: a batch job's identity that may call faster, say. What it does not set
     * it takes from the rule.
     *
     * @param value       the key's value, as the key yields it, unique within the rule (for
     *                    {@code source.principal}: {@code cluster.local/ns/batch/sa/nightly}; a {@code spiffe://}
     *                    form is accepted and stored in this form; for {@code source.ip}: one address, no CIDR
     *                    block, in {@link java.net.InetAddress#getHostAddress()}'s canonical form, so
     *                    {@code ::1} is stored as {@code 0:0:0:0:0:0:0:1} and an IPv4-mapped
     *                    {@code ::ffff:10.0.0.1} as {@code 10.0.0.1}; for other keys as written)
     * @param limit       the rate for this value, or null for the rule's
     * @param maxInFlight the concurrency for this value, or 0 for the rule's
     */
    public record KeyOverride(String value, Limit limit, int maxInFlight) {
        public KeyOverride {
            requireNonNull(value, "value");
        }
    }

    private static List<String> copy(List<String> l) {
        return l == null ? List.of() : List.copyOf(l);
    }
}
