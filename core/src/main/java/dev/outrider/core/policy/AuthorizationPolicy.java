package dev.outrider.core.policy;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Istio's AuthorizationPolicy (security.istio.io/v1, CUSTOM excluded): DENY policies are evaluated before
 * ALLOW; AUDIT only marks requests for the log. Within a rule the fields AND, within a field the list items
 * OR. A policy with no rules ({@code spec: {}}) matches nothing: with action ALLOW it allows nothing.
 *
 *
 * <p>A policy with {@link #targetRefs} (Istio's ambient form) does not apply to workloads: it applies to calls to the
 * ServiceEntries it names (of its own namespace), enforced by each calling sidecar on its outbound path.
 *
 * @param rules      empty = no rule ever matches (Istio: "spec: {}" allows nothing)
 * @param targetRefs empty for a workload policy; else the ServiceEntries it applies to (then its selector is ALL)
 */
public record AuthorizationPolicy(ObjectMeta metadata, WorkloadSelector selector, Action action,
                                  List<Rule> rules, List<TargetRef> targetRefs) implements PolicyDocument {
    /** The group of Istio's networking kinds, ServiceEntry's in a {@link TargetRef}. */
    public static final String NETWORKING_GROUP = "networking.istio.io";

    public AuthorizationPolicy {
        requireNonNull(metadata, "metadata");
        selector = selector == null ? WorkloadSelector.ALL : selector;
        action = action == null ? Action.ALLOW : action;
        rules = rules == null ? List.of() : List.copyOf(rules);
        targetRefs = targetRefs == null ? List.of() : List.copyOf(targetRefs);
    }

    /** A workload policy (no targetRefs). */
    public AuthorizationPolicy(ObjectMeta metadata, WorkloadSelector selector, Action action, List<Rule> rules) {
        this(metadata, selector, action, rules, List.of());
    }

    /** Whether it applies to calls to ServiceEntries rather than to workloads. */
    public boolean targetsServiceEntries() {
        return !targetRefs.isEmpty();
    }

    /** Whether it names the ServiceEntry {@code name} of its own namespace. */
    public boolean targets(String namespace, String name) {
        if (!metadata.namespace().equals(namespace)) {
            return false;
        }
        for (TargetRef ref : targetRefs) {
            if (ref.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** Istio's PolicyTargetReference; only {@code kind: ServiceEntry, group: networking.istio.io} for now. */
    public record TargetRef(String kind, String group, String name) {
        public TargetRef {
            requireNonNull(kind, "kind");
            requireNonNull(group, "group");
            requireNonNull(name, "name");
        }
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
