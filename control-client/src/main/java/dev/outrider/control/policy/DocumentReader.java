package dev.outrider.control.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.outrider.control.model.DnsLabel;
import dev.outrider.control.policy.AuthorizationPolicy.Action;
import dev.outrider.control.policy.AuthorizationPolicy.Condition;
import dev.outrider.control.policy.AuthorizationPolicy.From;
import dev.outrider.control.policy.AuthorizationPolicy.Operation;
import dev.outrider.control.policy.AuthorizationPolicy.Rule;
import dev.outrider.control.policy.AuthorizationPolicy.Source;
import dev.outrider.control.policy.AuthorizationPolicy.To;
import dev.outrider.control.policy.RequestAuthentication.ClaimToHeader;
import dev.outrider.control.policy.RequestAuthentication.JwtHeader;
import dev.outrider.control.policy.RequestAuthentication.JwtRule;

import java.util.ArrayList;
import java.util.List;

import static dev.outrider.control.policy.ErrorContext.quote;

/**
 * Translates one parsed document (a Jackson tree) into a validated {@link PolicyDocument}, field by field in
 * Istio's layout, failing on the first problem with its path. The schema is the lists of known fields below.
 */
final class DocumentReader {
    static final List<String> API_VERSIONS = List.of(PolicyDocument.API_VERSION, "security.istio.io/v1",
            "security.istio.io/v1beta1");
    static final List<String> KINDS = List.of("AuthorizationPolicy", "RequestAuthentication");

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
    private static final String ACTIONS = "ALLOW, DENY or AUDIT";

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
        Fields root = Fields.of(document, "", errors, DOCUMENT);
        String kind = root.requiredString("kind", k -> KINDS.contains(k) ? null
                : quote(k) + " is not a supported kind; supported: " + String.join(", ", KINDS));
        root.requiredString("apiVersion", v -> API_VERSIONS.contains(v) ? null
                : quote(v) + " is not a supported apiVersion; supported: " + String.join(", ", API_VERSIONS));
        ObjectMeta metadata = metadata(root);
        JsonNode specNode = root.get("spec");
        Fields spec = Fields.of(specNode == null ? JsonNodeFactory.instance.objectNode() : specNode,
                "spec", errors, kind.equals("AuthorizationPolicy") ? AUTHORIZATION_SPEC : AUTHENTICATION_SPEC);
        return kind.equals("AuthorizationPolicy") ? authorization(metadata, spec) : authentication(metadata, spec);
    }

    private static ObjectMeta metadata(Fields root) {
        if (!root.has("metadata")) {
            throw root.errors().fail("metadata", "is required");
        }
        Fields metadata = root.object("metadata", METADATA);
        Fields.Check label = v -> DnsLabel.isValid(v) ? null : quote(v) + " is not an RFC 1123 label (lower-case"
                + " letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)";
        String name = metadata.requiredString("name", label);
        String namespace = metadata.requiredString("namespace", label);
        return new ObjectMeta(name, namespace, metadata.stringMap("annotations"));
    }

    private static WorkloadSelector selector(Fields spec) {
        Fields selector = spec.object("selector", SELECTOR);
        return selector == null ? WorkloadSelector.ALL : new WorkloadSelector(selector.stringMap("matchLabels"));
    }

    private static AuthorizationPolicy authorization(ObjectMeta metadata, Fields spec) {
        WorkloadSelector selector = selector(spec);
        String action = spec.string("action", a -> switch (a) {
            case "ALLOW", "DENY", "AUDIT" -> null;
            case "CUSTOM" -> "action CUSTOM (an external authorizer) is not supported; use " + ACTIONS;
            default -> quote(a) + " is not an action; use " + ACTIONS;
        });
        List<Rule> rules = new ArrayList<>();
        for (Fields.Item item : spec.list("rules")) {
            rules.add(rule(Fields.of(item.node(), item.path(), spec.errors(), RULE)));
        }
        return new AuthorizationPolicy(metadata, selector, action == null ? null : Action.valueOf(action), rules);
    }

    /** A rule with no fields ({@code {}}) matches every request, as in Istio. */
    private static Rule rule(Fields rule) {
        List<From> from = new ArrayList<>();
        for (Fields.Item item : rule.list("from")) {
            Fields f = Fields.of(item.node(), item.path(), rule.errors(), FROM);
            if (!f.has("source")) {
                throw rule.errors().fail(f.path("source"), "is required");
            }
            from.add(new From(source(f.object("source", SOURCE))));
        }
        List<To> to = new ArrayList<>();
        for (Fields.Item item : rule.list("to")) {
            Fields t = Fields.of(item.node(), item.path(), rule.errors(), TO);
            if (!t.has("operation")) {
                throw rule.errors().fail(t.path("operation"), "is required");
            }
            to.add(new To(operation(t.object("operation", OPERATION))));
        }
        List<Condition> when = new ArrayList<>();
        for (Fields.Item item : rule.list("when")) {
            when.add(condition(Fields.of(item.node(), item.path(), rule.errors(), CONDITION)));
        }
        return new Rule(from, to, when);
    }

    private static Source source(Fields s) {
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

    private static Operation operation(Fields o) {
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
    private static List<String> ports(Fields o, String name) {
        List<String> ports = new ArrayList<>();
        for (Fields.Item item : o.list(name)) {
            JsonNode node = item.node();
            String text = node.isIntegralNumber() ? node.asText() : o.text(node, item.path(), Fields.Check.ANY);
            String problem = PolicyValues.port(text);
            if (problem != null) {
                throw o.errors().fail(item.path(), problem);
            }
            ports.add(text);
        }
        return ports;
    }

    private static Condition condition(Fields c) {
        String key = c.requiredString("key", PolicyValues::conditionKey);
        Fields.Check check = PolicyValues.conditionValue(key);
        Condition condition = new Condition(key, c.strings("values", check), c.strings("notValues", check));
        if (condition.values().isEmpty() && condition.notValues().isEmpty()) {
            throw c.errors().fail(c.path(), "needs values or notValues");
        }
        return condition;
    }

    private static RequestAuthentication authentication(ObjectMeta metadata, Fields spec) {
        WorkloadSelector selector = selector(spec);
        List<JwtRule> rules = new ArrayList<>();
        for (Fields.Item item : spec.list("jwtRules")) {
            rules.add(jwtRule(Fields.of(item.node(), item.path(), spec.errors(), JWT_RULE)));
        }
        return new RequestAuthentication(metadata, selector, rules);
    }

    private static JwtRule jwtRule(Fields r) {
        String issuer = r.requiredString("issuer", Fields.Check.ANY);
        List<String> audiences = r.strings("audiences", Fields.Check.ANY);
        String jwksUri = r.string("jwksUri", PolicyValues::jwksUri);
        String jwks = r.string("jwks", PolicyValues::jwks);
        if (jwksUri == null && jwks == null) {
            throw r.errors().fail(r.path(), "needs jwksUri or jwks");
        }
        if (jwksUri != null && jwks != null) {
            throw r.errors().fail(r.path("jwks"), "set jwksUri or jwks, not both");
        }
        List<JwtHeader> fromHeaders = new ArrayList<>();
        for (Fields.Item item : r.list("fromHeaders")) {
            Fields h = Fields.of(item.node(), item.path(), r.errors(), JWT_HEADER);
            fromHeaders.add(new JwtHeader(h.requiredString("name", PolicyValues::headerName),
                    h.string("prefix", Fields.Check.ANY)));
        }
        List<String> fromParams = r.strings("fromParams", PolicyValues::queryParameter);
        boolean forward = r.bool("forwardOriginalToken", false);
        List<ClaimToHeader> claimsToHeaders = new ArrayList<>();
        for (Fields.Item item : r.list("outputClaimToHeaders")) {
            Fields h = Fields.of(item.node(), item.path(), r.errors(), CLAIM_TO_HEADER);
            claimsToHeaders.add(new ClaimToHeader(h.requiredString("header", PolicyValues::outputHeader),
                    h.requiredString("claim", Fields.Check.ANY)));
        }
        return new JwtRule(issuer, audiences, jwksUri, jwks, fromHeaders, fromParams, forward, claimsToHeaders);
    }

    private static String textOrNull(JsonNode node) {
        return node != null && node.isTextual() ? node.textValue() : null;
    }
}
