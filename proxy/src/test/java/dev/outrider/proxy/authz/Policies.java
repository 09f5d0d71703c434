package dev.outrider.proxy.authz;

import dev.outrider.core.policy.AuthorizationPolicy;
import dev.outrider.core.policy.AuthorizationPolicy.Action;
import dev.outrider.core.policy.AuthorizationPolicy.Condition;
import dev.outrider.core.policy.AuthorizationPolicy.From;
import dev.outrider.core.policy.AuthorizationPolicy.Operation;
import dev.outrider.core.policy.AuthorizationPolicy.Rule;
import dev.outrider.core.policy.AuthorizationPolicy.Source;
import dev.outrider.core.policy.AuthorizationPolicy.To;
import dev.outrider.core.policy.ObjectMeta;
import dev.outrider.core.policy.WorkloadSelector;

import java.util.List;
import java.util.Map;

/** Builds wire-model policies in tests the way the YAML reads; fields not named stay unset. */
final class Policies {
    private Policies() {
    }

    static AuthorizationPolicy policy(String id, Action action, Rule... rules) {
        return policy(id, null, action, false, rules);
    }

    static AuthorizationPolicy policy(String id, Map<String, String> selector, Action action, boolean dryRun,
                                      Rule... rules) {
        String[] nsName = id.split("/");
        Map<String, String> annotations = dryRun ? Map.of(ObjectMeta.DRY_RUN, "true") : Map.of();
        return new AuthorizationPolicy(new ObjectMeta(nsName[1], nsName[0], annotations),
                selector == null ? null : new WorkloadSelector(selector), action, List.of(rules));
    }

    static Rule rule(List<Source> from, List<Operation> to, List<Condition> when) {
        return new Rule(from.stream().map(From::new).toList(), to.stream().map(To::new).toList(), when);
    }

    static Rule from(Source... sources) {
        return rule(List.of(sources), List.of(), List.of());
    }

    static Rule to(Operation... operations) {
        return rule(List.of(), List.of(operations), List.of());
    }

    static Rule when(Condition... conditions) {
        return rule(List.of(), List.of(), List.of(conditions));
    }

    static Rule any() {
        return new Rule(null, null, null);
    }

    static Condition cond(String key, List<String> values, List<String> notValues) {
        return new Condition(key, values, notValues);
    }

    /** Source builder: {@code src().principals("a").build()}. */
    static SourceBuilder src() {
        return new SourceBuilder();
    }

    static OperationBuilder op() {
        return new OperationBuilder();
    }

    static final class SourceBuilder {
        List<String> principals, notPrincipals, requestPrincipals, notRequestPrincipals, namespaces, notNamespaces,
                ipBlocks, notIpBlocks;

        SourceBuilder principals(String... v) { principals = List.of(v); return this; }
        SourceBuilder notPrincipals(String... v) { notPrincipals = List.of(v); return this; }
        SourceBuilder requestPrincipals(String... v) { requestPrincipals = List.of(v); return this; }
        SourceBuilder notRequestPrincipals(String... v) { notRequestPrincipals = List.of(v); return this; }
        SourceBuilder namespaces(String... v) { namespaces = List.of(v); return this; }
        SourceBuilder notNamespaces(String... v) { notNamespaces = List.of(v); return this; }
        SourceBuilder ipBlocks(String... v) { ipBlocks = List.of(v); return this; }
        SourceBuilder notIpBlocks(String... v) { notIpBlocks = List.of(v); return this; }

        Source build() {
            return new Source(principals, notPrincipals, requestPrincipals, notRequestPrincipals, namespaces,
                    notNamespaces, ipBlocks, notIpBlocks);
        }
    }

    static final class OperationBuilder {
        List<String> hosts, notHosts, ports, notPorts, methods, notMethods, paths, notPaths;

        OperationBuilder hosts(String... v) { hosts = List.of(v); return this; }
        OperationBuilder notHosts(String... v) { notHosts = List.of(v); return this; }
        OperationBuilder ports(String... v) { ports = List.of(v); return this; }
        OperationBuilder notPorts(String... v) { notPorts = List.of(v); return this; }
        OperationBuilder methods(String... v) { methods = List.of(v); return this; }
        OperationBuilder notMethods(String... v) { notMethods = List.of(v); return this; }
        OperationBuilder paths(String... v) { paths = List.of(v); return this; }
        OperationBuilder notPaths(String... v) { notPaths = List.of(v); return this; }

        Operation build() {
            return new Operation(hosts, notHosts, ports, notPorts, methods, notMethods, paths, notPaths);
        }
    }
}
