package dev.outrider.core.policy;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Istio's AuthorizationPolicy (security.istio.io/v1, CUSTOM excluded): DENY policies are evaluated before
 * ALLOW; AUDIT only marks requests for the log. Within a rule the fields AND, within a field the list items
 * OR. A policy with no rules ({@code spec: {}}) matches nothing: with action ALLOW it allows nothing.
 *
 * @param rules empty = no rule ever matches (Istio: "spec: {}" allows nothing)
 */
public record AuthorizationPolicy(ObjectMeta metadata, WorkloadSelector selector, Action action,
                                  List<Rule> rules) implements PolicyDocument {
    public AuthorizationPolicy {
        requireNonNull(metadata, "metadata");
        selector = selector == null ? WorkloadSelector.ALL : selector;
        action = action == null ? Action.ALLOW : action;
        rules = rules == null ? List.of() : List.copyOf(rules);
    }

    @Override
    public String kind() {
        return "AuthorizationPolicy";
    }

    public enum Action {
        ALLOW, DENY, AUDIT
    }

    /** One rule: {@code from} (any item), {@code to} (any item) and {@code when} (every condition). */
    public record Rule(List<From> from, List<To> to, List<Condition> when) {
        public Rule {
            from = from == null ? List.of() : List.copyOf(from);
            to = to == null ? List.of() : List.copyOf(to);
            when = when == null ? List.of() : List.copyOf(when);
        }
    }

    public record From(Source source) {
        public From {
            requireNonNull(source, "source");
        }
    }

    public record To(Operation operation) {
        public To {
            requireNonNull(operation, "operation");
        }
    }

    /** Who calls. Each list: empty = not constrained. Values match exactly, or {@code prefix*}, {@code *suffix}, {@code *}. */
    public record Source(List<String> principals, List<String> notPrincipals,
                         List<String> requestPrincipals, List<String> notRequestPrincipals,
                         List<String> namespaces, List<String> notNamespaces,
                         List<String> ipBlocks, List<String> notIpBlocks) {
        public Source {
            principals = copy(principals);
            notPrincipals = copy(notPrincipals);
            requestPrincipals = copy(requestPrincipals);
            notRequestPrincipals = copy(notRequestPrincipals);
            namespaces = copy(namespaces);
            notNamespaces = copy(notNamespaces);
            ipBlocks = copy(ipBlocks);
            notIpBlocks = copy(notIpBlocks);
        }
    }

    /** What is called. Ports are strings as in Istio ("8080"); paths match the normalized path without query. */
    public record Operation(List<String> hosts, List<String> notHosts, List<String> ports, List<String> notPorts,
                            List<String> methods, List<String> notMethods, List<String> paths,
                            List<String> notPaths) {
        public Operation {
            hosts = copy(hosts);
            notHosts = copy(notHosts);
            ports = copy(ports);
            notPorts = copy(notPorts);
            methods = copy(methods);
            notMethods = copy(notMethods);
            paths = copy(paths);
            notPaths = copy(notPaths);
        }
    }

    /**
     * {@code key} is one of {@code request.auth.claims[name]} (nested: {@code [a][b]}),
     * {@code request.auth.principal}, {@code request.auth.audiences}, {@code request.auth.presenter},
     * {@code request.headers[name]}, {@code source.ip}, {@code source.namespace}, {@code source.principal},
     * {@code destination.port}; other Istio keys are refused when the document is read. At least one of
     * {@code values} and {@code notValues} is set; {@code source.ip} takes addresses or CIDR blocks,
     * {@code destination.port} ports, the others exact, {@code prefix*}, {@code *suffix} or {@code *} matches.
     */
    public record Condition(String key, List<String> values, List<String> notValues) {
        public Condition {
            requireNonNull(key, "key");
            values = copy(values);
            notValues = copy(notValues);
        }
    }

    private static List<String> copy(List<String> l) {
        return l == null ? List.of() : List.copyOf(l);
    }
}
