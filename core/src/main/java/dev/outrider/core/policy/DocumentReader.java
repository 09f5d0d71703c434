package dev.outrider.core.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.document.Durations;
import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.policy.AuthorizationPolicy.Action;
import dev.outrider.core.policy.AuthorizationPolicy.Condition;
import dev.outrider.core.policy.AuthorizationPolicy.From;
import dev.outrider.core.policy.AuthorizationPolicy.Operation;
import dev.outrider.core.policy.AuthorizationPolicy.Rule;
import dev.outrider.core.policy.AuthorizationPolicy.Source;
import dev.outrider.core.policy.AuthorizationPolicy.To;
import dev.outrider.core.policy.RateLimitPolicy.Key;
import dev.outrider.core.policy.RateLimitPolicy.KeyOverride;
import dev.outrider.core.policy.RateLimitPolicy.Limit;
import dev.outrider.core.policy.RateLimitPolicy.Match;
import dev.outrider.core.policy.RequestAuthentication.ClaimToHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtRule;

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
 * Translates one parsed document (a Jackson tree) into a validated {@link PolicyDocument}, field by field,
 * failing on the first problem with its path. AuthorizationPolicy and RequestAuthentication are read in
 * Istio's layout, under any of {@link #API_VERSIONS}; RateLimitPolicy, Outrider's own kind, in the layout its
 * record describes, under {@code outrider.dev/v1} only. The schema is the lists of known fields below.
 */
final class DocumentReader {
    static final List<String> API_VERSIONS = List.of(PolicyDocument.API_VERSION, "security.istio.io/v1",
            "security.istio.io/v1beta1");
    static final List<String> KINDS = List.of("AuthorizationPolicy", "RequestAuthentication", "RateLimitPolicy");

    private static final List<String> DOCUMENT = List.of("apiVersion", "kind", "metadata", "spec");
    private static final List<String> METADATA = List.of("name", "namespace", "annotations");
    private static final List<String> AUTHORIZATION_SPEC = List.of("selector", "action", "rules");
    private static final List<String> AUTHENTICATION_SPEC = List.of("selector", "jwtRules");
    private static final List<String> SELECTOR = List.of("matchLabels");
    private static final List<String> RULE = List.of("from", "to", "when");
    private static final List<String> FROM = List.of("source");
    private static final List<String> TO = List.of("operation");
    private static final List<String> SOURCE = List.of("principals", "notPrincipals", "requestPrincipals",
            "notRequestPrincipals", "namespaces", "notNamespaces", "ipBlocks", "notIpBlocks");
    private static final List<String> OPERATION = List.of("hosts", "notHosts", "ports", "notPorts", "methods",
            "notMethods", "paths", "notPaths");
    private static final List<String> CONDITION = List.of("key", "values", "notValues");
    private static final List<String> JWT_RULE = List.of("issuer", "audiences", "jwksUri", "jwks", "fromHeaders",
            "fromParams", "forwardOriginalToken", "outputClaimToHeaders");
    private static final List<String> JWT_HEADER = List.of("name", "prefix");
    private static final List<String> CLAIM_TO_HEADER = List.of("header", "claim");
    private static final List<String> RATE_LIMIT_SPEC = List.of("selector", "legacyHeaders", "rules");
    private static final List<String> RATE_LIMIT_RULE = List.of("name", "match", "key", "limit", "maxInFlight",
            "overrides");
    private static final List<String> MATCH = List.of("methods", "notMethods", "paths", "notPaths");
    private static final List<String> LIMIT = List.of("requests", "per", "burst");
    private static final List<String> KEY_OVERRIDE = List.of("value", "limit", "maxInFlight");
    private static final String ACTIONS = "ALLOW, DENY or AUDIT";
    /** Bounds of {@code requests} and {@code burst}. */
    private static final long MAX_REQUESTS = 1_000_000_000;
    private static final long MAX_IN_FLIGHT = 1_000_000;
    /** The fastest sustained rate of one key: a refill interval of 1 µs. */
    private static final long MAX_REQUESTS_PER_SECOND = 1_000_000;
    /** The longest a bucket may take to refill from empty ({@code burst} × {@code per} / {@code requests}). */
    private static final Duration MAX_REFILL = Duration.ofDays(365);
    private static final String SPIFFE_SCHEME = "spiffe://";

    private DocumentReader() {
    }

    /**
     * Names the document for errors: {@code <Kind> <namespace>/<name>} when those are present and valid,
     * otherwise {@code fallback} (its position in the source), preceded by the kind when that is known.
     */
    static String label(JsonNode document, String fallback) {
        String kind = textOrNull(document.get("kind"));
        JsonNode metadata = document.get("metadata");
        String name = metadata == null ? null : textOrNull(metadata.get("name"));
        String namespace = metadata == null ? null : textOrNull(metadata.get("namespace"));
        boolean knownKind = kind != null && KINDS.contains(kind);
        if (knownKind && DnsLabel.isValid(name) && DnsLabel.isValid(namespace)) {
            return kind + " " + namespace + "/" + name;
        }
        return knownKind ? kind + " in " + fallback : fallback;
    }

    static PolicyDocument read(JsonNode document, ErrorContext errors) {
        DocumentFields root = DocumentFields.of(document, "", errors, DOCUMENT);
        String kind = root.requiredString("kind", k -> KINDS.contains(k) ? null
                : quote(k) + " is not a supported kind; supported: " + String.join(", ", KINDS));
        root.requiredString("apiVersion", kind.equals("RateLimitPolicy") ? DocumentReader::outriderApiVersion
                : v -> API_VERSIONS.contains(v) ? null
                : quote(v) + " is not a supported apiVersion; supported: " + String.join(", ", API_VERSIONS));
        ObjectMeta metadata = metadata(root);
        return switch (kind) {
            case "AuthorizationPolicy" -> authorization(metadata, spec(root, AUTHORIZATION_SPEC));
            case "RequestAuthentication" -> authentication(metadata, spec(root, AUTHENTICATION_SPEC));
            case "RateLimitPolicy" -> rateLimit(metadata, spec(root, RATE_LIMIT_SPEC));
            default -> throw new IllegalStateException("kind " + kind + " is in KINDS but not read");
        };
    }

    /** RateLimitPolicy, Outrider's own kind, exists under {@code outrider.dev/v1} only; Istio has no such kind. */
    private static String outriderApiVersion(String apiVersion) {
        return apiVersion.equals(PolicyDocument.API_VERSION) ? null : quote(apiVersion)
                + " is not a supported apiVersion: RateLimitPolicy is an " + PolicyDocument.API_VERSION + " kind";
    }

    /** The spec with only {@code known} fields; absent = {@code {}}. */
    private static DocumentFields spec(DocumentFields root, List<String> known) {
        JsonNode spec = root.get("spec");
        return DocumentFields.of(spec == null ? JsonNodeFactory.instance.objectNode() : spec, "spec", root.errors(), known);
    }

    private static ObjectMeta metadata(DocumentFields root) {
        if (!root.has("metadata")) {
            throw root.errors().fail("metadata", "is required");
        }
        DocumentFields metadata = root.object("metadata", METADATA);
        String name = metadata.requiredString("name", DocumentFields.Check.LABEL);
        String namespace = metadata.requiredString("namespace", DocumentFields.Check.LABEL);
        return new ObjectMeta(name, namespace, metadata.stringMap("annotations"));
    }

    private static WorkloadSelector selector(DocumentFields spec) {
        DocumentFields selector = spec.object("selector", SELECTOR);
        return selector == null ? WorkloadSelector.ALL : new WorkloadSelector(selector.stringMap("matchLabels"));
    }

    private static AuthorizationPolicy authorization(ObjectMeta metadata, DocumentFields spec) {
        WorkloadSelector selector = selector(spec);
        String action = spec.string("action", a -> switch (a) {
            case "ALLOW", "DENY", "AUDIT" -> null;
            case "CUSTOM" -> "action CUSTOM (an external authorizer) is not supported; use " + ACTIONS;
            default -> quote(a) + " is not an action; use " + ACTIONS;
        });
        List<Rule> rules = new ArrayList<>();
        for (DocumentFields.Item item : spec.list("rules")) {
            rules.add(rule(DocumentFields.of(item.node(), item.path(), spec.errors(), RULE)));
        }
        return new AuthorizationPolicy(metadata, selector, action == null ? null : Action.valueOf(action), rules);
    }

    /** A rule with no fields ({@code {}}) matches every request, as in Istio. */
    private static Rule rule(DocumentFields rule) {
        List<From> from = new ArrayList<>();
        for (DocumentFields.Item item : rule.list("from")) {
            DocumentFields f = DocumentFields.of(item.node(), item.path(), rule.errors(), FROM);
            if (!f.has("source")) {
                throw rule.errors().fail(f.path("source"), "is required");
            }
            from.add(new From(source(f.object("source", SOURCE))));
        }
        List<To> to = new ArrayList<>();
        for (DocumentFields.Item item : rule.list("to")) {
            DocumentFields t = DocumentFields.of(item.node(), item.path(), rule.errors(), TO);
            if (!t.has("operation")) {
                throw rule.errors().fail(t.path("operation"), "is required");
            }
            to.add(new To(operation(t.object("operation", OPERATION))));
        }
        List<Condition> when = new ArrayList<>();
        for (DocumentFields.Item item : rule.list("when")) {
            when.add(condition(DocumentFields.of(item.node(), item.path(), rule.errors(), CONDITION)));
        }
        return new Rule(from, to, when);
    }

    private static Source source(DocumentFields s) {
        Source source = new Source(s.strings("principals", PolicyValues::pattern),
                s.strings("notPrincipals", PolicyValues::pattern),
                s.strings("requestPrincipals", PolicyValues::pattern),
                s.strings("notRequestPrincipals", PolicyValues::pattern),
                s.strings("namespaces", PolicyValues::pattern), s.strings("notNamespaces", PolicyValues::pattern),
                s.strings("ipBlocks", PolicyValues::ipBlock), s.strings("notIpBlocks", PolicyValues::ipBlock));
        if (source.equals(new Source(null, null, null, null, null, null, null, null))) {
            throw s.errors().fail(s.path(), "must not be empty (as in Istio); leave out 'from' to match any source");
        }
        return source;
    }

    private static Operation operation(DocumentFields o) {
        Operation operation = new Operation(o.strings("hosts", PolicyValues::pattern),
                o.strings("notHosts", PolicyValues::pattern), ports(o, "ports"), ports(o, "notPorts"),
                o.strings("methods", PolicyValues::method), o.strings("notMethods", PolicyValues::method),
                o.strings("paths", PolicyValues::path), o.strings("notPaths", PolicyValues::path));
        if (operation.equals(new Operation(null, null, null, null, null, null, null, null))) {
            throw o.errors().fail(o.path(), "must not be empty (as in Istio); leave out 'to' to match any operation");
        }
        return operation;
    }

    /** Ports are strings in Istio; a YAML number ({@code 8080}) is taken as its decimal text. */
    private static List<String> ports(DocumentFields o, String name) {
        List<String> ports = new ArrayList<>();
        for (DocumentFields.Item item : o.list(name)) {
            JsonNode node = item.node();
            String text = node.isIntegralNumber() ? node.asText() : o.text(node, item.path(), DocumentFields.Check.ANY);
            String problem = PolicyValues.port(text);
            if (problem != null) {
                throw o.errors().fail(item.path(), problem);
            }
            ports.add(text);
        }
        return ports;
    }

    private static Condition condition(DocumentFields c) {
        String key = c.requiredString("key", PolicyValues::conditionKey);
        DocumentFields.Check check = PolicyValues.conditionValue(key);
        Condition condition = new Condition(key, c.strings("values", check), c.strings("notValues", check));
        if (condition.values().isEmpty() && condition.notValues().isEmpty()) {
            throw c.errors().fail(c.path(), "needs values or notValues");
        }
        return condition;
    }

    private static RequestAuthentication authentication(ObjectMeta metadata, DocumentFields spec) {
        WorkloadSelector selector = selector(spec);
        List<JwtRule> rules = new ArrayList<>();
        for (DocumentFields.Item item : spec.list("jwtRules")) {
            rules.add(jwtRule(DocumentFields.of(item.node(), item.path(), spec.errors(), JWT_RULE)));
        }
        return new RequestAuthentication(metadata, selector, rules);
    }

    private static JwtRule jwtRule(DocumentFields r) {
        String issuer = r.requiredString("issuer", DocumentFields.Check.ANY);
        List<String> audiences = r.strings("audiences", DocumentFields.Check.ANY);
        String jwksUri = r.string("jwksUri", PolicyValues::jwksUri);
        String jwks = r.string("jwks", PolicyValues::jwks);
        if (jwksUri == null && jwks == null) {
            throw r.errors().fail(r.path(), "needs jwksUri or jwks");
        }
        if (jwksUri != null && jwks != null) {
            throw r.errors().fail(r.path("jwks"), "set jwksUri or jwks, not both");
        }
        List<JwtHeader> fromHeaders = new ArrayList<>();
        for (DocumentFields.Item item : r.list("fromHeaders")) {
            DocumentFields h = DocumentFields.of(item.node(), item.path(), r.errors(), JWT_HEADER);
            fromHeaders.add(new JwtHeader(h.requiredString("name", PolicyValues::headerName),
                    h.string("prefix", DocumentFields.Check.ANY)));
        }
        List<String> fromParams = r.strings("fromParams", PolicyValues::queryParameter);
        boolean forward = r.bool("forwardOriginalToken", false);
        List<ClaimToHeader> claimsToHeaders = new ArrayList<>();
        for (DocumentFields.Item item : r.list("outputClaimToHeaders")) {
            DocumentFields h = DocumentFields.of(item.node(), item.path(), r.errors(), CLAIM_TO_HEADER);
            claimsToHeaders.add(new ClaimToHeader(h.requiredString("header", PolicyValues::outputHeader),
                    h.requiredString("claim", DocumentFields.Check.ANY)));
        }
        return new JwtRule(issuer, audiences, jwksUri, jwks, fromHeaders, fromParams, forward, claimsToHeaders);
    }

    private static RateLimitPolicy rateLimit(ObjectMeta metadata, DocumentFields spec) {
        WorkloadSelector selector = selector(spec);
        boolean legacyHeaders = spec.bool("legacyHeaders", false);
        List<RateLimitPolicy.Rule> rules = new ArrayList<>();
        Map<String, String> names = new HashMap<>(); // name -> the path of the rule with it
        List<DocumentFields.Item> items = spec.list("rules");
        for (int i = 0; i < items.size(); i++) {
            DocumentFields r = DocumentFields.of(items.get(i).node(), items.get(i).path(), spec.errors(), RATE_LIMIT_RULE);
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
        return new RateLimitPolicy(metadata, selector, legacyHeaders, rules);
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
        return new RateLimitPolicy.Rule(name == null ? "rule-" + index : name, match, key, limit, maxInFlight,
                overrides);
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
                    + " \"1s\" (units: ms, s, m, h)");
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
            DocumentFields o = DocumentFields.of(item.node(), item.path(), r.errors(), KEY_OVERRIDE);
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

    private static String textOrNull(JsonNode node) {
        return node != null && node.isTextual() ? node.textValue() : null;
    }
}
