package dev.outrider.proxy.authz;

import dev.outrider.core.policy.AuthorizationPolicy.Condition;
import dev.outrider.core.policy.AuthorizationPolicy.Operation;
import dev.outrider.core.policy.AuthorizationPolicy.Rule;
import dev.outrider.core.policy.AuthorizationPolicy.Source;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a rule of the wire model into matchers, once per snapshot: patterns parsed, principals stripped of
 * {@code spiffe://}, ports to ints, CIDR blocks to bytes, condition keys to typed accessors. Errors name the
 * field ({@code rules[0].when[1].key}); the caller prefixes the policy.
 */
final class RuleCompiler {
    private static final String SPIFFE = "spiffe://";
    private static final String CLAIMS = "request.auth.claims";
    private static final String HEADERS = "request.headers[";

    private RuleCompiler() {
    }

    static CompiledRule compile(String policyId, int index, Rule rule, Decision decision) {
        String at = "rules[" + index + "]";
        AttributeMatcher[][] from = new AttributeMatcher[rule.from().size()][];
        for (int i = 0; i < from.length; i++) {
            from[i] = source(rule.from().get(i).source(), at + ".from[" + i + "].source");
        }
        AttributeMatcher[][] to = new AttributeMatcher[rule.to().size()][];
        for (int i = 0; i < to.length; i++) {
            to[i] = operation(rule.to().get(i).operation(), at + ".to[" + i + "].operation");
        }
        List<AttributeMatcher> when = new ArrayList<>();
        for (int i = 0; i < rule.when().size(); i++) {
            condition(rule.when().get(i), at + ".when[" + i + "]", when);
        }
        return new CompiledRule(policyId, index, from, to, when.toArray(AttributeMatcher[]::new), decision);
    }

    private static AttributeMatcher[] source(Source s, String at) {
        List<AttributeMatcher> ms = new ArrayList<>();
        strings(ms, AttributeMatcher.Attr.SOURCE_PRINCIPAL, principals(s.principals()), false);
        strings(ms, AttributeMatcher.Attr.SOURCE_PRINCIPAL, principals(s.notPrincipals()), true);
        strings(ms, AttributeMatcher.Attr.REQUEST_PRINCIPAL, s.requestPrincipals(), false);
        strings(ms, AttributeMatcher.Attr.REQUEST_PRINCIPAL, s.notRequestPrincipals(), true);
        strings(ms, AttributeMatcher.Attr.SOURCE_NAMESPACE, s.namespaces(), false);
        strings(ms, AttributeMatcher.Attr.SOURCE_NAMESPACE, s.notNamespaces(), true);
        if (!s.ipBlocks().isEmpty()) {
            ms.add(new AttributeMatcher.Ips(ipBlocks(s.ipBlocks(), at + ".ipBlocks"), false));
        }
        if (!s.notIpBlocks().isEmpty()) {
            ms.add(new AttributeMatcher.Ips(ipBlocks(s.notIpBlocks(), at + ".notIpBlocks"), true));
        }
        return ms.toArray(AttributeMatcher[]::new);
    }

    private static AttributeMatcher[] operation(Operation o, String at) {
        List<AttributeMatcher> ms = new ArrayList<>();
        if (!o.hosts().isEmpty()) {
            ms.add(new AttributeMatcher.Hosts(o.hosts(), false));
        }
        if (!o.notHosts().isEmpty()) {
            ms.add(new AttributeMatcher.Hosts(o.notHosts(), true));
        }
        if (!o.ports().isEmpty()) {
            ms.add(new AttributeMatcher.Ports(ports(o.ports(), at + ".ports"), false));
        }
        if (!o.notPorts().isEmpty()) {
            ms.add(new AttributeMatcher.Ports(ports(o.notPorts(), at + ".notPorts"), true));
        }
        methods(ms, o.methods(), false);
        methods(ms, o.notMethods(), true);
        strings(ms, AttributeMatcher.Attr.PATH, o.paths(), false);
        strings(ms, AttributeMatcher.Attr.PATH, o.notPaths(), true);
        return ms.toArray(AttributeMatcher[]::new);
    }

    /**
     * One condition becomes one matcher for {@code values} and one for {@code notValues}; a condition with
     * both requires both (Istio). Keys follow Istio's "Authorization Policy Conditions".
     */
    private static void condition(Condition c, String at, List<AttributeMatcher> out) {
        if (c.values().isEmpty() && c.notValues().isEmpty()) {
            throw new IllegalArgumentException(at + ": one of values or notValues is required");
        }
        String key = c.key();
        if (!c.values().isEmpty()) {
            out.add(conditionMatcher(key, c.values(), false, at));
        }
        if (!c.notValues().isEmpty()) {
            out.add(conditionMatcher(key, c.notValues(), true, at));
        }
    }

    private static AttributeMatcher conditionMatcher(String key, List<String> values, boolean negated, String at) {
        String field = at + (negated ? ".notValues" : ".values");
        return switch (key) {
            case "source.ip" -> new AttributeMatcher.Ips(ipBlocks(values, field), negated);
            case "source.namespace" ->
                    new AttributeMatcher.Strings(AttributeMatcher.Attr.SOURCE_NAMESPACE, patterns(values), negated);
            case "source.principal" ->
                    new AttributeMatcher.Strings(AttributeMatcher.Attr.SOURCE_PRINCIPAL, patterns(principals(values)), negated);
            case "request.auth.principal" ->
                    new AttributeMatcher.Strings(AttributeMatcher.Attr.REQUEST_PRINCIPAL, patterns(values), negated);
            case "request.auth.audiences" -> new AttributeMatcher.Audiences(patterns(values), negated);
            case "request.auth.presenter" -> new AttributeMatcher.Claim(new String[]{"azp"}, patterns(values), negated);
            case "destination.port" -> new AttributeMatcher.Ports(ports(values, field), negated);
            default -> {
                if (key.startsWith(HEADERS) && key.endsWith("]") && key.length() > HEADERS.length() + 1) {
                    String name = key.substring(HEADERS.length(), key.length() - 1).toLowerCase(Locale.ROOT);
                    yield new AttributeMatcher.Header(name, patterns(values), negated);
                }
                if (key.startsWith(CLAIMS + "[")) {
                    yield new AttributeMatcher.Claim(claimPath(key, at), patterns(values), negated);
                }
                throw new IllegalArgumentException(at + ".key: unsupported key '" + key + "'");
            }
        };
    }

    /** {@code request.auth.claims[a][b]} → {@code {"a", "b"}}. */
    static String[] claimPath(String key, String at) {
        List<String> path = new ArrayList<>();
        int i = CLAIMS.length();
        while (i < key.length()) {
            int close = key.indexOf(']', i);
            if (key.charAt(i) != '[' || close < 0 || close == i + 1) {
                throw new IllegalArgumentException(at + ".key: malformed claim key '" + key
                        + "' (expected request.auth.claims[name] or [name][nested])");
            }
            path.add(key.substring(i + 1, close));
            i = close + 1;
        }
        return path.toArray(String[]::new);
    }

    private static void strings(List<AttributeMatcher> ms, AttributeMatcher.Attr attr, List<String> values,
                                boolean negated) {
        if (!values.isEmpty()) {
            ms.add(new AttributeMatcher.Strings(attr, patterns(values), negated));
        }
    }

    /** Methods match exactly (no wildcards), case-sensitively: {@code GET}, not {@code get}. */
    private static void methods(List<AttributeMatcher> ms, List<String> methods, boolean negated) {
        if (!methods.isEmpty()) {
            StringMatcher[] exact = new StringMatcher[methods.size()];
            for (int i = 0; i < exact.length; i++) {
                exact[i] = StringMatcher.exact(methods.get(i));
            }
            ms.add(new AttributeMatcher.Strings(AttributeMatcher.Attr.METHOD, exact, negated));
        }
    }

    private static StringMatcher[] patterns(List<String> values) {
        StringMatcher[] ms = new StringMatcher[values.size()];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = StringMatcher.of(values.get(i), false);
        }
        return ms;
    }

    /** Principals are matched in Istio's form, without {@code spiffe://}; policies may write either. */
    private static List<String> principals(List<String> values) {
        List<String> out = new ArrayList<>(values.size());
        for (String v : values) {
            out.add(v.startsWith(SPIFFE) ? v.substring(SPIFFE.length()) : v);
        }
        return out;
    }

    private static int[] ports(List<String> values, String at) {
        int[] ports = new int[values.size()];
        for (int i = 0; i < ports.length; i++) {
            String v = values.get(i);
            int p;
            try {
                p = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                p = -1;
            }
            if (p < 0 || p > 65535) {
                throw new IllegalArgumentException(at + "[" + i + "]: '" + v + "' is not a port (0-65535)");
            }
            ports[i] = p;
        }
        return ports;
    }

    private static IpBlock[] ipBlocks(List<String> values, String at) {
        IpBlock[] blocks = new IpBlock[values.size()];
        for (int i = 0; i < blocks.length; i++) {
            try {
                blocks[i] = IpBlock.parse(values.get(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(at + "[" + i + "]: " + e.getMessage());
            }
        }
        return blocks;
    }
}
