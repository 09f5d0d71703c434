package dev.outrider.core.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.document.Durations;
import dev.outrider.core.policy.RateLimitPolicy.Key;
import dev.outrider.core.policy.RateLimitPolicy.KeyOverride;
import dev.outrider.core.policy.RateLimitPolicy.Limit;
import dev.outrider.core.policy.RateLimitPolicy.Match;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.outrider.core.document.DocumentFields.quote;

/**
 * Reads the {@code spec} of a RateLimitPolicy, Outrider's own kind, in the layout its record describes (selector,
 * legacyHeaders, admittedHeaders, global, rules of match, key, limit, maxInFlight, overrides and scope), into a {@link RateLimitPolicy}, failing
 * on the first problem with its path. The schema is the lists of known fields below; {@link DocumentReader} reads
 * the envelope and chooses the reader by kind. Pure functions.
 */
final class RateLimitPolicyReader {
    static final List<String> SPEC = List.of("selector", "legacyHeaders", "admittedHeaders", "global", "rules");
    private static final List<String> GLOBAL = List.of("fallback", "replicas");
    private static final List<String> RATE_LIMIT_RULE = List.of("name", "match", "key", "limit", "maxInFlight",
            "overrides", "scope");
    private static final String SCOPES = "local or global";
    private static final String FALLBACKS = "local, admit or refuse";
    /** Bound of {@code global.replicas}. */
    private static final long MAX_REPLICAS = 10_000;
    private static final List<String> MATCH = List.of("methods", "notMethods", "paths", "notPaths");
    private static final List<String> LIMIT = List.of("requests", "per", "burst");
    private static final List<String> KEY_OVERRIDE = List.of("value", "limit", "maxInFlight");
    /** Bounds of {@code requests} and {@code burst}. */
    private static final long MAX_REQUESTS = 1_000_000_000;
    private static final long MAX_IN_FLIGHT = 1_000_000;
    /** The fastest sustained rate of one key: a refill interval of 1 µs. */
    private static final long MAX_REQUESTS_PER_SECOND = 1_000_000;
    /** The longest a bucket may take to refill from empty ({@code burst} × {@code per} / {@code requests}). */
    private static final Duration MAX_REFILL = Duration.ofDays(365);
    private static final String SPIFFE_SCHEME = "spiffe://";

    private RateLimitPolicyReader() {
    }

    static RateLimitPolicy read(ObjectMeta metadata, DocumentFields spec) {
        WorkloadSelector selector = DocumentReader.selector(spec);
        boolean legacyHeaders = spec.bool("legacyHeaders", false);
        boolean admittedHeaders = spec.bool("admittedHeaders", false);
        List<RateLimitPolicy.Rule> rules = new ArrayList<>();
        Map<String, String> names = new HashMap<>(); // name -> the path of the rule with it
        List<DocumentFields.Item> items = spec.list("rules");
        for (int i = 0; i < items.size(); i++) {
            DocumentFields r = spec.mapping(items.get(i), RATE_LIMIT_RULE);
            RateLimitPolicy.Rule rule = rateLimitRule(r, i);
            String previous = names.putIfAbsent(rule.name(), r.path());
            if (previous != null) {
                throw r.errors().fail(r.path("name"), r.has("name")
                        ? quote(rule.name()) + " is already the name of " + previous
                        : "the default name " + quote(rule.name()) + " is already the name of " + previous
                        + "; name this rule");
            }
            rules.add(rule);
        }
        RateLimitPolicy.Global global = global(spec, rules);
        return new RateLimitPolicy(metadata, selector, legacyHeaders, admittedHeaders, global, rules);
    }

    /** {@code spec.global}; only with a global rule (elsewhere it would change nothing). */
    private static RateLimitPolicy.Global global(DocumentFields spec, List<RateLimitPolicy.Rule> rules) {
        DocumentFields g = spec.object("global", GLOBAL);
        if (g == null) {
            return RateLimitPolicy.Global.DEFAULT;
        }
        if (rules.stream().noneMatch(RateLimitPolicy.Rule::global)) {
            throw spec.errors().fail(g.path(), "no rule has scope: global; these settings would change nothing");
        }
        String fallback = g.string("fallback", f -> switch (f) {
            case "local", "admit", "refuse" -> null;
            default -> quote(f) + " is not a fallback; use " + FALLBACKS;
        });
        RateLimitPolicy.Fallback chosen = fallback == null ? RateLimitPolicy.Fallback.LOCAL
                : RateLimitPolicy.Fallback.valueOf(fallback.toUpperCase(Locale.ROOT));
        int replicas = (int) g.integer("replicas", 1, MAX_REPLICAS, 1);
        if (g.has("replicas") && chosen != RateLimitPolicy.Fallback.LOCAL) {
            throw g.errors().fail(g.path("replicas"), "only with fallback: local (the local limit is divided by it)");
        }
        return new RateLimitPolicy.Global(chosen, replicas);
    }

    /** Without a name, rule {@code index} is {@code rule-<index>}. */
    private static RateLimitPolicy.Rule rateLimitRule(DocumentFields r, int index) {
        String name = r.string("name", DocumentFields.Check.LABEL);
        Match match = match(r.object("match", MATCH));
        Key key = rateLimitKey(r);
        Limit limit = limit(r.object("limit", LIMIT));
        int maxInFlight = maxInFlight(r);
        if (limit == null && maxInFlight == 0) {
            throw r.errors().fail(r.path(), "needs limit or maxInFlight");
        }
        List<KeyOverride> overrides = overrides(r, key, limit != null, maxInFlight != 0);
        String scope = r.string("scope", s -> switch (s) {
            case "local", "global" -> null;
            default -> quote(s) + " is not a scope; use " + SCOPES;
        });
        boolean global = "global".equals(scope);
        if (global && limit == null) {
            throw r.errors().fail(r.path("scope"), "global shares a rate limit and this rule has none (limit);"
                    + " maxInFlight is always per sidecar");
        }
        return new RateLimitPolicy.Rule(name == null ? "rule-" + index : name, match, key, limit, maxInFlight,
                overrides, global ? RateLimitPolicy.Scope.GLOBAL : RateLimitPolicy.Scope.LOCAL);
    }

    /** Absent and {@code {}} both match every request. */
    private static Match match(DocumentFields m) {
        if (m == null) {
            return Match.ANY;
        }
        Match match = new Match(m.strings("methods", PolicyValues::method),
                m.strings("notMethods", PolicyValues::method), m.strings("paths", PolicyValues::path),
                m.strings("notPaths", PolicyValues::path));
        return match.equals(Match.ANY) ? Match.ANY : match;
    }

    /** The rule's key, or null without one; header names lower-cased. */
    private static Key rateLimitKey(DocumentFields r) {
        String attribute = r.string("key", PolicyValues::rateLimitKey);
        if (attribute == null) {
            return null;
        }
        List<String> claimPath = PolicyValues.claimPath(attribute);
        if (claimPath != null) {
            return new Key(Key.Kind.CLAIM, null, claimPath);
        }
        String header = PolicyValues.headerOfKey(attribute);
        if (header != null) {
            return new Key(Key.Kind.HEADER, header.toLowerCase(Locale.ROOT), null);
        }
        return Key.of(switch (attribute) {
            case "source.principal" -> Key.Kind.SOURCE_PRINCIPAL;
            case "request.auth.principal" -> Key.Kind.REQUEST_PRINCIPAL;
            case "source.ip" -> Key.Kind.SOURCE_IP;
            default -> throw new IllegalStateException("key " + attribute + " was accepted but not read");
        });
    }

    /** A token bucket, or null when absent. */
    private static Limit limit(DocumentFields l) {
        if (l == null) {
            return null;
        }
        long requests = l.requiredInteger("requests", 1, MAX_REQUESTS);
        Duration per = period(l);
        long burst = l.integer("burst", 1, MAX_REQUESTS, requests);
        long perMillis = per.toMillis();
        // requests / per > MAX_REQUESTS_PER_SECOND, exactly: both sides fit a long (at most 1e12 and 8.64e13).
        if (requests * 1000 > MAX_REQUESTS_PER_SECOND * perMillis) {
            BigDecimal rate = BigDecimal.valueOf(requests * 1000)
                    .divide(BigDecimal.valueOf(perMillis), 3, RoundingMode.HALF_UP).stripTrailingZeros();
            throw l.errors().fail(l.path(), requests + " requests per " + l.get("per").textValue() + " is "
                    + rate.toPlainString() + " requests per second per key; at most " + MAX_REQUESTS_PER_SECOND);
        }
        // burst * per / requests > MAX_REFILL, exactly: burst * perMillis is at most 8.64e16.
        if (Math.ceilDiv(burst * perMillis, requests) > MAX_REFILL.toMillis()) {
            long days = Math.ceilDiv(burst * perMillis, requests * Duration.ofDays(1).toMillis());
            throw l.errors().fail(l.path("burst"), "a bucket of " + burst + " refilled at " + requests + " per "
                    + l.get("per").textValue() + " takes " + days + " days to refill from empty; at most "
                    + MAX_REFILL.toDays() + " days");
        }
        return new Limit(requests, per, burst);
    }

    /** {@code per}: a string such as {@code 1s}; a bare YAML number has no unit and is refused. */
    private static Duration period(DocumentFields l) {
        JsonNode per = l.get("per");
        if (per == null) {
            throw l.errors().fail(l.path("per"), "is required");
        }
        if (per.isNumber()) {
            throw l.errors().fail(l.path("per"), "expected a duration with a unit, got a number; write e.g."
                    + " \"1s\" (units: ms, s, m, h, d)");
        }
        return Durations.parse(l.text(per, l.path("per"), PolicyValues::period));
    }

    /** 0 when absent. */
    private static int maxInFlight(DocumentFields f) {
        return Math.toIntExact(f.integer("maxInFlight", 1, MAX_IN_FLIGHT, 0));
    }

    /**
     * Each override changes only what the rule limits, for one value of the rule's key (values normalized as
     * {@link #overrideValue} says, then unique).
     */
    private static List<KeyOverride> overrides(DocumentFields r, Key key, boolean ruleHasLimit, boolean ruleHasMaxInFlight) {
        List<DocumentFields.Item> items = r.list("overrides");
        if (items.isEmpty()) {
            return List.of();
        }
        if (key == null) {
            throw r.errors().fail(r.path("overrides"), "overrides need a key: without one the rule has a single budget");
        }
        List<KeyOverride> overrides = new ArrayList<>();
        Map<String, String> values = new HashMap<>(); // normalized value -> the path of the override with it
        for (DocumentFields.Item item : items) {
            DocumentFields o = r.mapping(item, KEY_OVERRIDE);
            String value = overrideValue(o, key);
            String previous = values.putIfAbsent(value, o.path());
            if (previous != null) {
                String written = o.get("value").textValue();
                throw o.errors().fail(o.path("value"), quote(written) + (written.equals(value) ? ""
                        : ", that is " + quote(value) + ",") + " already has an override: " + previous);
            }
            Limit limit = limit(o.object("limit", LIMIT));
            if (limit != null && !ruleHasLimit) {
                throw o.errors().fail(o.path("limit"), "the rule has no limit to override (it limits maxInFlight"
                        + " only); set a limit on the rule too");
            }
            int maxInFlight = maxInFlight(o);
            if (maxInFlight != 0 && !ruleHasMaxInFlight) {
                throw o.errors().fail(o.path("maxInFlight"), "the rule has no maxInFlight to override (it limits"
                        + " the rate only); set maxInFlight on the rule too");
            }
            if (limit == null && maxInFlight == 0) {
                throw o.errors().fail(o.path(), "needs limit or maxInFlight");
            }
            overrides.add(new KeyOverride(value, limit, maxInFlight));
        }
        return overrides;
    }

    /**
     * The value as the key yields it: a {@code source.principal} without {@code spiffe://} (Istio's form), a
     * {@code source.ip} in {@link InetAddress#getHostAddress()}'s form; others as written.
     */
    private static String overrideValue(DocumentFields o, Key key) {
        return switch (key.kind()) {
            case SOURCE_PRINCIPAL -> {
                String value = o.requiredString("value", v -> v.equals(SPIFFE_SCHEME)
                        ? quote(v) + " names no principal" : null);
                yield value.startsWith(SPIFFE_SCHEME) ? value.substring(SPIFFE_SCHEME.length()) : value;
            }
            case SOURCE_IP -> InetAddress.ofLiteral(o.requiredString("value", PolicyValues::ipAddress))
                    .getHostAddress();
            default -> o.requiredString("value", DocumentFields.Check.ANY);
        };
    }
}
