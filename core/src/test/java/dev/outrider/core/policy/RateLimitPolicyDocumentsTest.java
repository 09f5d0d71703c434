package dev.outrider.core.policy;

import dev.outrider.core.policy.RateLimitPolicy.Key;
import dev.outrider.core.policy.RateLimitPolicy.KeyOverride;
import dev.outrider.core.policy.RateLimitPolicy.Limit;
import dev.outrider.core.policy.RateLimitPolicy.Match;
import dev.outrider.core.policy.RateLimitPolicy.Rule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** RateLimitPolicy documents: what is accepted, into which records, and every refusal with its path. */
class RateLimitPolicyDocumentsTest {
    private static final String RL = "RateLimitPolicy shop/limits";

    private static RateLimitPolicy only(String yaml) {
        List<PolicyDocument> documents = PolicyDocuments.parse(yaml, "test.yaml");
        assertThat(documents).hasSize(1);
        return (RateLimitPolicy) documents.getFirst();
    }

    private static RateLimitPolicy withSpec(String spec) {
        return only("""
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata: {name: limits, namespace: shop}
                spec: %s
                """.formatted(spec));
    }

    private static Rule onlyRule(String rule) {
        RateLimitPolicy policy = withSpec("{rules: [" + rule + "]}");
        assertThat(policy.rules()).hasSize(1);
        return policy.rules().getFirst();
    }

    @Test
    void everyFieldIsReadIntoTheRecords() {
        RateLimitPolicy policy = only("""
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata: {name: orders-limits, namespace: shop, annotations: {outrider.dev/dry-run: "true"}}
                spec:
                  selector: {matchLabels: {app: orders}}
                  legacyHeaders: true
                  admittedHeaders: true
                  rules:
                  - name: per-caller
                    match: {methods: [GET, POST], paths: ["/api/*"], notPaths: ["/api/health"]}
                    key: source.principal
                    limit: {requests: 100, per: 1s, burst: 20}
                    maxInFlight: 10
                    overrides:
                    - {value: "cluster.local/ns/batch/sa/nightly", limit: {requests: 1000, per: 1s}, maxInFlight: 50}
                    - {value: "spiffe://cluster.local/ns/shop/sa/admin", maxInFlight: 20}
                  - key: "request.auth.claims[org][id]"
                    limit: {requests: 5000, per: 1m}
                  - name: per-tenant
                    match: {notMethods: [OPTIONS]}
                    key: "request.headers[X-Tenant-ID]"
                    maxInFlight: 100
                    overrides: [{value: Acme, maxInFlight: 500}]
                  - name: per-ip
                    match: {}
                    key: source.ip
                    limit: {requests: 10, per: 500ms, burst: 50}
                    overrides:
                    - {value: "2001:DB8::1", limit: {requests: 100, per: 500ms}}
                    - {value: "::1", limit: {requests: 1000, per: 500ms, burst: 2000}}
                    - {value: 10.0.0.7, limit: {requests: 1, per: 24h}}
                  - name: per-user
                    key: request.auth.principal
                    limit: {requests: 1000000, per: 24h}
                  - name: whole-workload
                    limit: {requests: 1000, per: 1ms}
                """);

        assertThat(policy.kind()).isEqualTo("RateLimitPolicy");
        assertThat(policy.metadata()).isEqualTo(new ObjectMeta("orders-limits", "shop", Map.of(ObjectMeta.DRY_RUN, "true")));
        assertThat(policy.metadata().dryRun()).isTrue();
        assertThat(policy.selector()).isEqualTo(new WorkloadSelector(Map.of("app", "orders")));
        assertThat(policy.legacyHeaders()).isTrue();
        assertThat(policy.admittedHeaders()).isTrue();
        assertThat(policy.rules()).containsExactly(
                new Rule("per-caller", new Match(List.of("GET", "POST"), null, List.of("/api/*"), List.of("/api/health")),
                        Key.of(Key.Kind.SOURCE_PRINCIPAL), new Limit(100, Duration.ofSeconds(1), 20), 10, List.of(
                        new KeyOverride("cluster.local/ns/batch/sa/nightly", new Limit(1000, Duration.ofSeconds(1), 1000), 50),
                        new KeyOverride("cluster.local/ns/shop/sa/admin", null, 20))),
                new Rule("rule-1", Match.ANY, new Key(Key.Kind.CLAIM, null, List.of("org", "id")),
                        new Limit(5000, Duration.ofMinutes(1), 5000), 0, List.of()),
                new Rule("per-tenant", new Match(null, List.of("OPTIONS"), null, null),
                        new Key(Key.Kind.HEADER, "x-tenant-id", null), null, 100,
                        List.of(new KeyOverride("Acme", null, 500))),
                new Rule("per-ip", Match.ANY, Key.of(Key.Kind.SOURCE_IP), new Limit(10, Duration.ofMillis(500), 50), 0,
                        List.of(new KeyOverride("2001:db8:0:0:0:0:0:1", new Limit(100, Duration.ofMillis(500), 100), 0),
                                new KeyOverride("0:0:0:0:0:0:0:1", new Limit(1000, Duration.ofMillis(500), 2000), 0),
                                new KeyOverride("10.0.0.7", new Limit(1, Duration.ofHours(24), 1), 0))),
                new Rule("per-user", Match.ANY, Key.of(Key.Kind.REQUEST_PRINCIPAL),
                        new Limit(1_000_000, Duration.ofHours(24), 1_000_000), 0, List.of()),
                new Rule("whole-workload", Match.ANY, null, new Limit(1000, Duration.ofMillis(1), 1000), 0, List.of()));
        assertThat(policy.rules().get(1).key().attribute()).isEqualTo("request.auth.claims[org][id]");
        assertThat(policy.rules().get(2).key().attribute()).isEqualTo("request.headers[x-tenant-id]");
    }

    @Test
    void defaults() {
        RateLimitPolicy policy = withSpec("{rules: [{maxInFlight: 5}, {name: rule-0x, limit: {requests: 7, per: 1s}}]}");

        assertThat(policy.selector()).isEqualTo(WorkloadSelector.ALL);
        assertThat(policy.legacyHeaders()).isFalse();
        assertThat(policy.admittedHeaders()).isFalse();
        assertThat(policy.rules()).containsExactly(
                new Rule("rule-0", Match.ANY, null, null, 5, List.of()),
                new Rule("rule-0x", Match.ANY, null, new Limit(7, Duration.ofSeconds(1), 7), 0, List.of()));
    }

    @Test
    void globalRulesAndWhatTheyDoWithoutRedis() {
        RateLimitPolicy policy = withSpec("""
                {global: {fallback: local, replicas: 4},
                 rules: [{name: shared, key: source.principal, scope: global, limit: {requests: 100, per: 1s},
                          maxInFlight: 5},
                         {name: own, scope: local, limit: {requests: 10, per: 1s}},
                         {name: plain, maxInFlight: 3}]}""");
        assertThat(policy.global()).isEqualTo(new RateLimitPolicy.Global(RateLimitPolicy.Fallback.LOCAL, 4));
        assertThat(policy.rules()).extracting(Rule::scope).containsExactly(RateLimitPolicy.Scope.GLOBAL,
                RateLimitPolicy.Scope.LOCAL, RateLimitPolicy.Scope.LOCAL);
        assertThat(policy.rules().getFirst().global()).isTrue();

        assertThat(withSpec("{rules: [{scope: global, limit: {requests: 1, per: 1s}}]}").global())
                .as("default: each sidecar the whole limit on its own").isEqualTo(RateLimitPolicy.Global.DEFAULT);
        assertThat(withSpec("{global: {fallback: refuse}, rules: [{scope: global, limit: {requests: 1, per: 1s}}]}")
                .global()).isEqualTo(new RateLimitPolicy.Global(RateLimitPolicy.Fallback.REFUSE, 1));
        assertThat(withSpec("{global: {fallback: admit}, rules: [{scope: global, limit: {requests: 1, per: 1s}}]}")
                .global().fallback()).isEqualTo(RateLimitPolicy.Fallback.ADMIT);
    }

    @Test
    void absentOrEmptySpecThrottlesNothing() {
        assertThat(only("""
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata: {name: limits, namespace: shop}
                """).rules()).isEmpty();
        assertThat(withSpec("{rules: []}").rules()).isEmpty();
    }

    @Test
    void anEmptyMatchIsNoMatchAndAnEmptyOverrideListNeedsNoKey() {
        Rule rule = onlyRule("{match: {}, maxInFlight: 1, overrides: []}");

        assertThat(rule.match()).isSameAs(Match.ANY);
        assertThat(rule.overrides()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            source.principal                  | source.principal
            request.auth.principal            | request.auth.principal
            source.ip                         | source.ip
            request.headers[X-API-Key]        | request.headers[x-api-key]
            request.headers[x_tenant.id]      | request.headers[x_tenant.id]
            request.auth.claims[sub]          | request.auth.claims[sub]
            request.auth.claims[a.b][c d][0]  | request.auth.claims[a.b][c d][0]
            """)
    void keysAreReadAsAttributes(String written, String attribute) {
        Rule rule = onlyRule("{key: \"" + written + "\", maxInFlight: 1}");

        assertThat(rule.key().attribute()).isEqualTo(attribute);
    }

    @Test
    void boundsAreInclusive() {
        RateLimitPolicy policy = withSpec("""
                {rules: [
                  {limit: {requests: 1000000000, per: 24h, burst: 1000000000}, maxInFlight: 1000000},
                  {limit: {requests: 1000000, per: 1s, burst: 1}, maxInFlight: 1},
                  {limit: {requests: 1, per: 1ms}},
                  {limit: {requests: 1, per: 24h, burst: 365}},
                  {limit: {requests: 1, per: 1440m}}]}""");

        assertThat(policy.rules()).extracting(Rule::limit).containsExactly(
                new Limit(1_000_000_000, Duration.ofHours(24), 1_000_000_000),
                new Limit(1_000_000, Duration.ofSeconds(1), 1),
                new Limit(1, Duration.ofMillis(1), 1),
                new Limit(1, Duration.ofHours(24), 365),
                new Limit(1, Duration.ofHours(24), 1));
        assertThat(policy.rules().get(1).limit().intervalNanos()).isEqualTo(1000);
        assertThat(policy.rules()).extracting(Rule::maxInFlight).containsExactly(1_000_000, 1, 0, 0, 0);
    }

    @Test
    void periodsAreTheSharedDurationGrammar() {
        RateLimitPolicy policy = withSpec("""
                {rules: [
                  {limit: {requests: 1, per: 1m30s}},
                  {limit: {requests: 1, per: 1d}},
                  {limit: {requests: 3, per: 1s500ms}}]}""");

        assertThat(policy.rules()).extracting(Rule::limit).containsExactly(
                new Limit(1, Duration.ofSeconds(90), 1),
                new Limit(1, Duration.ofHours(24), 1),
                new Limit(3, Duration.ofMillis(1500), 3));
    }

    @Test
    void jsonDocumentsAreAccepted() {
        Rule rule = ((RateLimitPolicy) PolicyDocuments.parse("""
                {"apiVersion": "outrider.dev/v1", "kind": "RateLimitPolicy",
                 "metadata": {"name": "limits", "namespace": "shop"},
                 "spec": {"rules": [{"key": "source.ip", "limit": {"requests": 5, "per": "2s"}}]}}
                """, "request body").getFirst()).rules().getFirst();

        assertThat(rule).isEqualTo(new Rule("rule-0", Match.ANY, Key.of(Key.Kind.SOURCE_IP),
                new Limit(5, Duration.ofSeconds(2), 5), 0, List.of()));
    }

    @Test
    void errorsNameTheRateLimitPolicy() {
        assertThatThrownBy(() -> withSpec("{rules: [{limit: {requests: 0, per: 1s}}]}"))
                .isInstanceOf(PolicyException.class)
                .hasMessage("test.yaml: RateLimitPolicy shop/limits: spec.rules[0].limit.requests: must be between 1"
                        + " and 1000000000, got 0");
    }

    @Test
    void aRateLimitPolicyMayShareItsNameWithAnotherKindButNotWithAnotherRateLimitPolicy() {
        String documents = """
                {apiVersion: outrider.dev/v1, kind: AuthorizationPolicy, metadata: {name: p, namespace: shop}}
                ---
                {apiVersion: outrider.dev/v1, kind: RateLimitPolicy, metadata: {name: p, namespace: shop}}
                """;

        assertThat(PolicyDocuments.parse(documents, "p.yaml")).extracting(PolicyDocument::kind)
                .containsExactly("AuthorizationPolicy", "RateLimitPolicy");
        assertThatThrownBy(() -> PolicyDocuments.parse(documents + """
                ---
                {apiVersion: outrider.dev/v1, kind: RateLimitPolicy, metadata: {name: p, namespace: shop}}
                """, "p.yaml"))
                .isInstanceOf(PolicyException.class)
                .hasMessage("p.yaml: RateLimitPolicy shop/p: metadata.name: already defined by document 2 (line 3)");
    }

    // ---- refusals

    /** One refused document: {@code message} is {@code test.yaml: <document>: <path>: <problem...>}. */
    record Case(String yaml, String document, String path, String problem) {
        @Override
        public String toString() {
            return path + ": " + problem;
        }
    }

    private static Case document(String apiVersion, String kind, String document, String path, String problem) {
        return new Case("apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: {name: limits, namespace: shop}\n",
                document, path, problem);
    }

    private static Case spec(String spec, String path, String problem) {
        return new Case("""
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata: {name: limits, namespace: shop}
                spec: %s
                """.formatted(spec), RL, path, problem);
    }

    private static Case rules(String rules, String path, String problem) {
        return spec("{rules: [" + rules + "]}", "spec.rules" + path, problem);
    }

    private static Case rule(String rule, String path, String problem) {
        return rules(rule, "[0]" + path, problem);
    }

    /** A limit of a rule that has nothing else. */
    private static Case limit(String limit, String path, String problem) {
        return rule("{limit: " + limit + "}", ".limit" + path, problem);
    }

    /** Overrides of a rule keyed by {@code key} with both a limit and maxInFlight. */
    private static Case overrides(String key, String overrides, String path, String problem) {
        return rule("{key: \"" + key + "\", limit: {requests: 1, per: 1s}, maxInFlight: 1, overrides: [" + overrides
                + "]}", ".overrides" + path, problem);
    }

    static List<Case> refused() {
        return List.of(
                // the document
                document("security.istio.io/v1", "RateLimitPolicy", RL, "apiVersion",
                        "'security.istio.io/v1' is not a supported apiVersion: RateLimitPolicy is an outrider.dev/v1 kind"),
                document("security.istio.io/v1beta1", "RateLimitPolicy", RL, "apiVersion",
                        "RateLimitPolicy is an outrider.dev/v1 kind"),
                document("outrider.dev/v2", "RateLimitPolicy", RL, "apiVersion",
                        "'outrider.dev/v2' is not a supported apiVersion: RateLimitPolicy is an outrider.dev/v1 kind"),
                document("outrider.dev/v1", "RateLimitPolicies", "document 1 (line 1)", "kind",
                        "'RateLimitPolicies' is not a supported kind; supported: AuthorizationPolicy,"
                                + " RequestAuthentication, RateLimitPolicy, PeerAuthentication, ServiceEntry"),
                new Case("apiVersion: outrider.dev/v1\nkind: RateLimitPolicy\nmetadata: {name: Limits, namespace: shop}\n",
                        "RateLimitPolicy in document 1 (line 1)", "metadata.name", "'Limits' is not an RFC 1123 label"),

                // spec
                spec("{action: DENY}", "spec.action", "unknown field 'action'; known fields: selector, legacyHeaders,"
                        + " admittedHeaders, global, rules"),
                spec("{global: {fallback: local}, rules: [{limit: {requests: 1, per: 1s}}]}", "spec.global",
                        "no rule has scope: global; these settings would change nothing"),
                spec("{global: {fallback: deny}, rules: [{scope: global, limit: {requests: 1, per: 1s}}]}",
                        "spec.global.fallback", "'deny' is not a fallback; use local, admit or refuse"),
                spec("{global: {fallback: admit, replicas: 3}, rules: [{scope: global, limit: {requests: 1, per: 1s}}]}",
                        "spec.global.replicas", "only with fallback: local (the local limit is divided by it)"),
                spec("{global: {replicas: 0}, rules: [{scope: global, limit: {requests: 1, per: 1s}}]}",
                        "spec.global.replicas", "must be between 1 and 10000, got 0"),
                spec("{global: {redis: x}, rules: [{scope: global, limit: {requests: 1, per: 1s}}]}",
                        "spec.global.redis", "unknown field 'redis'; known fields: fallback, replicas"),
                rule("{scope: cluster, limit: {requests: 1, per: 1s}}", ".scope",
                        "'cluster' is not a scope; use local or global"),
                rule("{scope: global, maxInFlight: 2}", ".scope", "global shares a rate limit and this rule has none"
                        + " (limit); maxInFlight is always per sidecar"),
                spec("{legacyHeaders: \"true\"}", "spec.legacyHeaders", "expected true or false, got a string"),
                spec("{admittedHeaders: \"yes\"}", "spec.admittedHeaders", "expected true or false, got a string"),
                spec("{selector: {matchLabels: {app: 1}}}", "spec.selector.matchLabels[app]", "expected a string"),
                spec("{rules: {limit: {requests: 1, per: 1s}}}", "spec.rules", "expected a list, got a mapping"),
                rules("per-caller", "[0]", "expected a mapping, got a string"),

                // rule and name
                rule("{limits: {requests: 1, per: 1s}}", ".limits",
                        "unknown field 'limits'; known fields: name, match, key, limit, maxInFlight, overrides,"
                                + " scope"),
                rule("{name: Per_Caller, maxInFlight: 1}", ".name", "'Per_Caller' is not an RFC 1123 label"),
                rule("{name: 1, maxInFlight: 1}", ".name", "expected a string, got a number (quote it)"),
                rule("{name: \"\", maxInFlight: 1}", ".name", "must not be empty"),
                rules("{name: a, maxInFlight: 1}, {name: b, maxInFlight: 1}, {name: a, maxInFlight: 2}", "[2].name",
                        "'a' is already the name of spec.rules[0]"),
                rules("{maxInFlight: 1}, {name: rule-0, maxInFlight: 1}", "[1].name",
                        "'rule-0' is already the name of spec.rules[0]"),
                rules("{name: rule-1, maxInFlight: 1}, {maxInFlight: 1}", "[1].name",
                        "the default name 'rule-1' is already the name of spec.rules[0]; name this rule"),
                rule("{name: a}", "", "needs limit or maxInFlight"),
                rule("{}", "", "needs limit or maxInFlight"),
                rule("{key: source.ip, match: {methods: [GET]}}", "", "needs limit or maxInFlight"),

                // match
                rule("{match: {method: [GET]}, maxInFlight: 1}", ".match.method",
                        "unknown field 'method'; known fields: methods, notMethods, paths, notPaths"),
                rule("{match: [GET], maxInFlight: 1}", ".match", "expected a mapping, got a list"),
                rule("{match: {methods: [GET, get]}, maxInFlight: 1}", ".match.methods[1]",
                        "'get' is not an HTTP method in upper case"),
                rule("{match: {notMethods: [\"*\"]}, maxInFlight: 1}", ".match.notMethods[0]",
                        "is not an HTTP method in upper case"),
                rule("{match: {paths: [api]}, maxInFlight: 1}", ".match.paths[0]", "'api' must start with '/'"),
                rule("{match: {notPaths: [\"/a?b=1\"]}, maxInFlight: 1}", ".match.notPaths[0]", "holds a query or fragment"),
                rule("{match: {paths: [\"/a*b\"]}, maxInFlight: 1}", ".match.paths[0]", "may hold one '*'"),

                // key
                rule("{key: destination.port, maxInFlight: 1}", ".key", "'destination.port' is not a supported key;"
                        + " supported: source.principal, request.auth.principal, request.auth.claims[<claim>] (nested:"
                        + " [<claim>][<claim>]), request.headers[<name>], source.ip"),
                rule("{key: source.namespace, maxInFlight: 1}", ".key", "'source.namespace' is not a supported key"),
                rule("{key: request.auth.claims, maxInFlight: 1}", ".key", "is not a supported key"),
                rule("{key: \"request.auth.claims[]\", maxInFlight: 1}", ".key",
                        "'request.auth.claims[]' is not a claim key"),
                rule("{key: \"request.auth.claims[a][]\", maxInFlight: 1}", ".key", "each claim name non-empty"),
                rule("{key: \"request.auth.claims[a]b\", maxInFlight: 1}", ".key", "is not a claim key"),
                rule("{key: \"request.headers[:authority]\", maxInFlight: 1}", ".key",
                        "'request.headers[:authority]' names a pseudo-header"),
                rule("{key: \"request.headers[x tenant]\", maxInFlight: 1}", ".key", "'x tenant' is not a valid header name"),
                rule("{key: \"request.headers[]\", maxInFlight: 1}", ".key", "is not a supported key"),
                rule("{key: 42, maxInFlight: 1}", ".key", "expected a string, got a number (quote it)"),

                // limit
                limit("100", "", "expected a mapping, got a number"),
                limit("{requests: 1, per: 1s, rate: 2}", ".rate", "unknown field 'rate'; known fields: requests, per, burst"),
                limit("{per: 1s}", ".requests", "is required"),
                limit("{requests: 100}", ".per", "is required"),
                limit("{requests: \"100\", per: 1s}", ".requests", "expected an integer, got a string (write it without quotes)"),
                limit("{requests: 1.5, per: 1s}", ".requests", "expected an integer, got 1.5"),
                limit("{requests: 100.0, per: 1s}", ".requests", "expected an integer, got 100.0"),
                limit("{requests: true, per: 1s}", ".requests", "expected an integer, got a boolean"),
                limit("{requests: [1], per: 1s}", ".requests", "expected an integer, got a list"),
                limit("{requests: 0, per: 1s}", ".requests", "must be between 1 and 1000000000, got 0"),
                limit("{requests: -5, per: 1s}", ".requests", "must be between 1 and 1000000000, got -5"),
                limit("{requests: 1000000001, per: 1s}", ".requests", "must be between 1 and 1000000000, got 1000000001"),
                limit("{requests: 99999999999999999999999, per: 24h}", ".requests", "got 99999999999999999999999"),
                limit("{requests: 1, per: 1s, burst: 0}", ".burst", "must be between 1 and 1000000000, got 0"),
                limit("{requests: 1, per: 1s, burst: 1000000001}", ".burst", "must be between 1 and 1000000000"),
                limit("{requests: 1, per: 1s, burst: \"20\"}", ".burst", "expected an integer, got a string"),
                limit("{requests: 1, per: 1}", ".per",
                        "expected a duration with a unit, got a number; write e.g. \"1s\" (units: ms, s, m, h, d)"),
                limit("{requests: 1, per: 0.5}", ".per", "expected a duration with a unit, got a number"),
                limit("{requests: 1, per: true}", ".per", "expected a string, got a boolean"),
                limit("{requests: 1, per: 1.5s}", ".per", "'1.5s' is not a duration: write whole numbers with units"
                        + " d, h, m, s or ms, largest first (e.g. 1s, 500ms, 1m30s)"),
                limit("{requests: 1, per: 1d1ms}", ".per", "'1d1ms' is outside 1ms to 24h"),
                limit("{requests: 1, per: 30s1m}", ".per", "'30s1m' is not a duration"),
                limit("{requests: 1, per: PT0.0015S}", ".per", "'PT0.0015S' is not a whole number of milliseconds"),
                limit("{requests: 1, per: 1S}", ".per", "'1S' is not a duration"),
                limit("{requests: 1, per: \"1 s\"}", ".per", "'1 s' is not a duration"),
                limit("{requests: 1, per: 01s}", ".per", "'01s' is not a duration"),
                limit("{requests: 1, per: -1s}", ".per", "'-1s' is not a duration"),
                limit("{requests: 1, per: 0ms}", ".per", "'0ms' is outside 1ms to 24h"),
                limit("{requests: 1, per: 25h}", ".per", "'25h' is outside 1ms to 24h"),
                limit("{requests: 1, per: 1441m}", ".per", "'1441m' is outside 1ms to 24h"),
                limit("{requests: 1, per: 86400001ms}", ".per", "is outside 1ms to 24h"),
                limit("{requests: 1, per: 99999999999999999999h}", ".per", "is outside 1ms to 24h"),
                limit("{requests: 1000001, per: 1s}", "",
                        "1000001 requests per 1s is 1000001 requests per second per key; at most 1000000"),
                limit("{requests: 2000001, per: 2s}", "", "is 1000000.5 requests per second per key"),
                limit("{requests: 1001, per: 1ms}", "", "1001 requests per 1ms is 1001000 requests per second"),
                limit("{requests: 1000000000, per: 1m}", "", "is 16666666.667 requests per second per key"),
                limit("{requests: 1, per: 24h, burst: 366}", ".burst",
                        "a bucket of 366 refilled at 1 per 24h takes 366 days to refill from empty; at most 365 days"),
                limit("{requests: 1, per: 1s, burst: 1000000000}", ".burst", "takes 11575 days to refill"),

                // maxInFlight
                rule("{maxInFlight: 0}", ".maxInFlight", "must be between 1 and 1000000, got 0"),
                rule("{maxInFlight: 1000001}", ".maxInFlight", "must be between 1 and 1000000, got 1000001"),
                rule("{maxInFlight: \"10\"}", ".maxInFlight", "expected an integer, got a string"),
                rule("{maxInFlight: 2.5}", ".maxInFlight", "expected an integer, got 2.5"),

                // overrides
                rule("{maxInFlight: 1, overrides: [{value: a, maxInFlight: 2}]}", ".overrides",
                        "overrides need a key: without one the rule has a single budget"),
                rule("{key: source.principal, maxInFlight: 1, overrides: {value: a, maxInFlight: 2}}", ".overrides",
                        "expected a list, got a mapping"),
                overrides("source.principal", "a", "[0]", "expected a mapping, got a string"),
                overrides("source.principal", "{value: a, limits: {requests: 2, per: 1s}}", "[0].limits",
                        "unknown field 'limits'; known fields: value, limit, maxInFlight"),
                overrides("source.principal", "{maxInFlight: 2}", "[0].value", "is required"),
                overrides("source.principal", "{value: \"\", maxInFlight: 2}", "[0].value", "must not be empty"),
                overrides("request.headers[x-tenant]", "{value: 42, maxInFlight: 2}", "[0].value",
                        "expected a string, got a number (quote it)"),
                overrides("source.principal", "{value: \"spiffe://\", maxInFlight: 2}", "[0].value",
                        "'spiffe://' names no principal"),
                overrides("source.principal", "{value: a}", "[0]", "needs limit or maxInFlight"),
                overrides("source.principal", "{value: a, limit: ~, maxInFlight: ~}", "[0]", "needs limit or maxInFlight"),
                overrides("source.principal", "{value: a, maxInFlight: 2}, {value: b, maxInFlight: 2},"
                        + " {value: a, maxInFlight: 3}", "[2].value", "'a' already has an override: spec.rules[0].overrides[0]"),
                overrides("source.principal", "{value: \"cluster.local/ns/a/sa/b\", maxInFlight: 2},"
                        + " {value: \"spiffe://cluster.local/ns/a/sa/b\", maxInFlight: 3}", "[1].value",
                        "'spiffe://cluster.local/ns/a/sa/b', that is 'cluster.local/ns/a/sa/b', already has an override:"
                                + " spec.rules[0].overrides[0]"),
                overrides("source.ip", "{value: \"::1\", maxInFlight: 2}, {value: \"0:0:0:0:0:0:0:1\", maxInFlight: 3}",
                        "[1].value", "'0:0:0:0:0:0:0:1' already has an override: spec.rules[0].overrides[0]"),
                overrides("source.ip", "{value: \"::ffff:10.0.0.1\", maxInFlight: 2}, {value: 10.0.0.1, maxInFlight: 3}",
                        "[1].value", "'10.0.0.1' already has an override"),
                overrides("source.ip", "{value: 10.0.0.0/8, maxInFlight: 2}", "[0].value",
                        "'10.0.0.0/8' is a CIDR block; name one address"),
                overrides("source.ip", "{value: \"2001:db8::/32\", maxInFlight: 2}", "[0].value", "is a CIDR block"),
                overrides("source.ip", "{value: localhost, maxInFlight: 2}", "[0].value",
                        "'localhost' is not an IPv4 or IPv6 address"),
                overrides("source.ip", "{value: 010.0.0.1, maxInFlight: 2}", "[0].value", "is not an IPv4 or IPv6 address"),
                overrides("source.ip", "{value: \"fe80::1%eth0\", maxInFlight: 2}", "[0].value",
                        "is not an IPv4 or IPv6 address"),
                overrides("source.ip", "{value: 10.0.0.0/33, maxInFlight: 2}", "[0].value", "is not an IPv4 or IPv6 address"),
                overrides("source.principal", "{value: a, limit: {requests: 0, per: 1s}}", "[0].limit.requests",
                        "must be between 1 and 1000000000, got 0"),
                overrides("source.principal", "{value: a, limit: {requests: 1, per: 1}}", "[0].limit.per",
                        "write e.g. \"1s\""),
                overrides("source.principal", "{value: a, limit: {requests: 2000000, per: 1s}}", "[0].limit",
                        "is 2000000 requests per second per key"),
                overrides("source.principal", "{value: a, maxInFlight: 0}", "[0].maxInFlight",
                        "must be between 1 and 1000000, got 0"),
                rule("{key: source.principal, maxInFlight: 1, overrides: [{value: a, limit: {requests: 5, per: 1s}}]}",
                        ".overrides[0].limit", "the rule has no limit to override (it limits maxInFlight only); set a"
                                + " limit on the rule too"),
                rule("{key: source.principal, limit: {requests: 5, per: 1s}, overrides: [{value: a, maxInFlight: 5}]}",
                        ".overrides[0].maxInFlight", "the rule has no maxInFlight to override (it limits the rate only);"
                                + " set maxInFlight on the rule too"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void refusedWithDocumentPathAndProblem(Case c) {
        PolicyException e = catchThrowableOfType(PolicyException.class, () -> PolicyDocuments.parse(c.yaml(), "test.yaml"));

        assertThat(e).as("refused").isNotNull();
        assertThat(e.source()).isEqualTo("test.yaml");
        assertThat(e.document()).isEqualTo(c.document());
        assertThat(e.path()).isEqualTo(c.path());
        assertThat(e.problem()).contains(c.problem());
        String where = "test.yaml: " + c.document() + ": " + (c.path().isEmpty() ? "" : c.path() + ": ");
        assertThat(e).hasMessageStartingWith(where).hasMessageContaining(c.problem());
    }
}
