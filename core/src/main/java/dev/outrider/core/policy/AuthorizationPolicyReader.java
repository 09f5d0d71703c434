package dev.outrider.core.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.policy.AuthorizationPolicy.Action;
import dev.outrider.core.policy.AuthorizationPolicy.Condition;
import dev.outrider.core.policy.AuthorizationPolicy.From;
import dev.outrider.core.policy.AuthorizationPolicy.Operation;
import dev.outrider.core.policy.AuthorizationPolicy.Rule;
import dev.outrider.core.policy.AuthorizationPolicy.Source;
import dev.outrider.core.policy.AuthorizationPolicy.To;

import java.util.ArrayList;
import java.util.List;

import static dev.outrider.core.document.DocumentFields.quote;

/**
 * Reads the {@code spec} of an AuthorizationPolicy, in Istio's layout (selector, action, rules of from, to and
 * when), into an {@link AuthorizationPolicy}, failing on the first problem with its path. The schema is the lists of
 * known fields below; {@link DocumentReader} reads the envelope and chooses the reader by kind. Pure functions.
 */
final class AuthorizationPolicyReader {
    static final List<String> SPEC = List.of("selector", "targetRefs", "action", "rules");
    private static final List<String> TARGET_REF = List.of("kind", "group", "name");
    private static final List<String> RULE = List.of("from", "to", "when");
    private static final List<String> FROM = List.of("source");
    private static final List<String> TO = List.of("operation");
    private static final List<String> SOURCE = List.of("principals", "notPrincipals", "requestPrincipals",
            "notRequestPrincipals", "namespaces", "notNamespaces", "ipBlocks", "notIpBlocks");
    private static final List<String> OPERATION = List.of("hosts", "notHosts", "ports", "notPorts", "methods",
            "notMethods", "paths", "notPaths");
    private static final List<String> CONDITION = List.of("key", "values", "notValues");
    private static final String ACTIONS = "ALLOW, DENY or AUDIT";

    private AuthorizationPolicyReader() {
    }

    static AuthorizationPolicy read(ObjectMeta metadata, DocumentFields spec) {
        WorkloadSelector selector = DocumentReader.selector(spec);
        String action = spec.string("action", a -> switch (a) {
            case "ALLOW", "DENY", "AUDIT" -> null;
            case "CUSTOM" -> "action CUSTOM (an external authorizer) is not supported; use " + ACTIONS;
            default -> quote(a) + " is not an action; use " + ACTIONS;
        });
        List<Rule> rules = new ArrayList<>();
        for (DocumentFields.Item item : spec.list("rules")) {
            rules.add(rule(spec.mapping(item, RULE)));
        }
        return new AuthorizationPolicy(metadata, selector, action == null ? null : Action.valueOf(action), rules,
                targetRefs(spec));
    }

    /**
     * Istio's {@code targetRefs}: the ServiceEntries (of the policy's namespace) whose callers the policy restricts.
     * As in Istio, a policy has a selector or targetRefs, not both.
     */
    private static List<AuthorizationPolicy.TargetRef> targetRefs(DocumentFields spec) {
        if (!spec.has("targetRefs")) {
            return List.of();
        }
        if (spec.has("selector")) {
            throw spec.fail("targetRefs", "cannot be combined with selector (as in Istio): a policy applies to the"
                    + " workloads its selector selects or to the ServiceEntries its targetRefs name");
        }
        List<DocumentFields.Item> items = spec.list("targetRefs");
        if (items.isEmpty()) {
            throw spec.fail("targetRefs", "must not be empty; leave it out for a workload policy");
        }
        List<AuthorizationPolicy.TargetRef> refs = new ArrayList<>();
        for (DocumentFields.Item item : items) {
            DocumentFields ref = spec.mapping(item, TARGET_REF);
            String kind = ref.requiredString("kind", k -> k.equals("ServiceEntry") ? null
                    : quote(k) + " is not supported as a target; only ServiceEntry (callers of an external service)");
            String group = ref.requiredString("group", g -> g.equals(AuthorizationPolicy.NETWORKING_GROUP) ? null
                    : quote(g) + " is not ServiceEntry's group; use " + AuthorizationPolicy.NETWORKING_GROUP);
            String name = ref.requiredString("name", DocumentFields.Check.LABEL);
            for (AuthorizationPolicy.TargetRef seen : refs) {
                if (seen.name().equals(name)) {
                    throw ref.fail("name", quote(name) + " is already targeted");
                }
            }
            refs.add(new AuthorizationPolicy.TargetRef(kind, group, name));
        }
        return refs;
    }

    /** A rule with no fields ({@code {}}) matches every request, as in Istio. */
    private static Rule rule(DocumentFields rule) {
        List<From> from = new ArrayList<>();
        for (DocumentFields.Item item : rule.list("from")) {
            DocumentFields f = rule.mapping(item, FROM);
            if (!f.has("source")) {
                throw rule.errors().fail(f.path("source"), "is required");
            }
            from.add(new From(source(f.object("source", SOURCE))));
        }
        List<To> to = new ArrayList<>();
        for (DocumentFields.Item item : rule.list("to")) {
            DocumentFields t = rule.mapping(item, TO);
            if (!t.has("operation")) {
                throw rule.errors().fail(t.path("operation"), "is required");
            }
            to.add(new To(operation(t.object("operation", OPERATION))));
        }
        List<Condition> when = new ArrayList<>();
        for (DocumentFields.Item item : rule.list("when")) {
            when.add(condition(rule.mapping(item, CONDITION)));
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
}
