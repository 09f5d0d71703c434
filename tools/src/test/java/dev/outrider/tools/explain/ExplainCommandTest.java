package dev.outrider.tools.explain;

import dev.outrider.tools.OutriderCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code outrider explain} against the example policies (examples/policies) and a broken document. */
class ExplainCommandTest {
    private static final Path EXAMPLES = Path.of("..", "examples", "policies");
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        List<String> all = new ArrayList<>(List.of("explain"));
        all.addAll(List.of(args));
        return OutriderCommand.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(all.toArray(new String[0]));
    }

    private int explain(String source, String method, String path) {
        return run("--policies", EXAMPLES.toString(), "--workload", "orders", "--namespace", "shop",
                "--source", source, "--method", method, "--path", path);
    }

    @Test
    void allowedNamesThePolicyAndRule() {
        assertThat(explain("spiffe://cluster.local/ns/shop/sa/frontend", "GET", "/api/items")).isZero();
        assertThat(out.toString()).contains("decision:  ALLOW")
                .contains("decided by: policy shop/orders-allow-frontend, rule 0");
    }

    @Test
    void theRateLimitRulesThatMatchAnAllowedRequestAreListed() {
        assertThat(explain("spiffe://cluster.local/ns/shop/sa/frontend", "GET", "/api/items")).isZero();
        assertThat(out.toString()).contains("rate limits: 1 rule(s) match, each must admit the request")
                .contains("  shop/orders-limits rule per-caller: key source.principal ="
                        + " 'cluster.local/ns/shop/sa/frontend'; 20 per 1s, burst 10; at most 8 in flight (this"
                        + " sidecar's); scope local: this sidecar's budget")
                .doesNotContain("api-writes");
        out.getBuffer().setLength(0);
        assertThat(explain("spiffe://cluster.local/ns/shop/sa/other", "GET", "/api/items")).isZero();
        assertThat(out.toString()).contains("decision:  DENY").contains("rate limits: not reached");
    }

    @Test
    void aGlobalRuleSaysWhereItsBudgetIsAndWhatItDoesWithoutRedis(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("shared.yaml"), """
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata: {name: orders-shared, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  global: {fallback: local, replicas: 4}
                  rules:
                  - name: per-caller
                    key: source.principal
                    scope: global
                    limit: {requests: 100, per: 1m}
                """);
        assertThat(run("--policies", EXAMPLES.resolve("orders.yaml") + "," + dir.resolve("shared.yaml"),
                "--workload", "orders", "--namespace", "shop", "--source", "spiffe://cluster.local/ns/shop/sa/frontend",
                "--path", "/api/items")).isZero();
        assertThat(out.toString()).contains("  shop/orders-shared rule per-caller: key source.principal ="
                + " 'cluster.local/ns/shop/sa/frontend'; 100 per 1m, burst 100; scope global: one budget for every"
                + " sidecar of the workload, in Redis; without Redis: the limit divided by 4 in each sidecar");
    }

    @Test
    void aDotSegmentCannotReachADeniedPath() {
        assertThat(explain("spiffe://cluster.local/ns/shop/sa/frontend", "GET", "/api/../admin")).isZero();
        assertThat(out.toString()).contains("GET orders.shop/admin").contains("decision:  DENY (403)")
                .contains("deny policy shop/orders-deny-admin rule 0");
    }

    @Test
    void anEncodedSlashIsRefusedBeforeAuthorization() {
        assertThat(explain("spiffe://cluster.local/ns/shop/sa/frontend", "GET", "/api%2F..%2Fadmin")).isZero();
        assertThat(out.toString()).contains("decision:  400").contains("encoded slash");
    }

    @Test
    void withDecodedEscapedSlashesTheDecodedPathIsWhatIsMatched() {
        assertThat(run("--policies", EXAMPLES.toString(), "--workload", "orders", "--namespace", "shop",
                "--source", "spiffe://cluster.local/ns/shop/sa/frontend", "--path", "/api%2F..%2Fadmin",
                "--escaped-slashes", "decode")).isZero();
        assertThat(out.toString()).contains("GET orders.shop/admin").contains("decision:  DENY (403)");
        assertThat(run("--policies", EXAMPLES.toString(), "--workload", "orders", "--namespace", "shop",
                "--escaped-slashes", "sometimes")).isEqualTo(2);
        assertThat(err.toString()).contains("--escaped-slashes: expected reject, decode or keep");
    }

    @Test
    void pathParametersAreRefusedOrStrippedAsTheSidecarDoes() {
        assertThat(explain("spiffe://cluster.local/ns/shop/sa/frontend", "GET", "/api/..;v=1/admin")).isZero();
        assertThat(out.toString()).contains("decision:  400").contains("path parameter (;) in path")
                .contains("pathParameters: reject");
        out.getBuffer().setLength(0);
        assertThat(run("--policies", EXAMPLES.toString(), "--workload", "orders", "--namespace", "shop",
                "--source", "spiffe://cluster.local/ns/shop/sa/frontend", "--path", "/api/..;v=1/admin",
                "--path-parameters", "strip")).isZero();
        assertThat(out.toString()).contains("path:      /api/..;v=1/admin -> /admin")
                .contains("pathParameters: strip").contains("GET orders.shop/admin").contains("decision:  DENY (403)");
        assertThat(run("--policies", EXAMPLES.toString(), "--workload", "orders", "--namespace", "shop",
                "--path-parameters", "keep")).isEqualTo(2);
        assertThat(err.toString()).contains("--path-parameters: expected reject or strip, got 'keep'");
    }

    @Test
    void anotherCallerOrMethodIsDeniedByTheDefault() {
        assertThat(explain("spiffe://cluster.local/ns/shop/sa/intruder", "GET", "/hello")).isZero();
        assertThat(out.toString()).contains("DENY (403)").contains("no allow policy matched");
        out.getBuffer().setLength(0);
        assertThat(explain("spiffe://cluster.local/ns/shop/sa/frontend", "DELETE", "/api/x")).isZero();
        assertThat(out.toString()).contains("DENY (403)");
    }

    @Test
    void noPolicyMeansTheMeshDefault(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("empty.yaml"), "# nothing\n");
        assertThat(run("--policies", dir.toString(), "--workload", "orders", "--namespace", "shop")).isZero();
        assertThat(out.toString()).contains("default deny");
        out.getBuffer().setLength(0);
        assertThat(run("--policies", dir.toString(), "--workload", "orders", "--namespace", "shop",
                "--default", "allow")).isZero();
        assertThat(out.toString()).contains("ALLOW");
    }

    @Test
    void aBrokenDocumentExitsTwoNamingTheField(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("bad.yaml"), """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: bad, namespace: shop}
                spec:
                  rules: [{to: [{operation: {methods: [get]}}]}]
                """);
        assertThat(run("--policies", dir.toString(), "--workload", "orders", "--namespace", "shop")).isEqualTo(2);
        assertThat(err.toString()).contains("bad.yaml").contains("spec.rules[0].to[0].operation.methods[0]");
    }

    @Test
    void aDenyWrittenWithAYamlAliasIsRefusedNotExplainedAsAllow(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("allow.yaml"), """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-all, namespace: shop}
                spec: {action: ALLOW, rules: [{}]}
                """);
        Files.writeString(dir.resolve("deny.yaml"), """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata:
                  name: deny-intruder
                  namespace: shop
                  annotations: {blocked: &intruder "cluster.local/ns/shop/sa/intruder"}
                spec:
                  action: DENY
                  rules:
                  - from: [{source: {principals: [*intruder]}}]
                """);

        assertThat(run("--policies", dir.toString(), "--workload", "orders", "--namespace", "shop",
                "--source", "spiffe://cluster.local/ns/shop/sa/intruder")).isEqualTo(2);
        assertThat(out.toString()).doesNotContain("ALLOW");
        assertThat(err.toString()).contains("deny.yaml: document 1 (line 1): spec.rules[0].from[0].source.principals[0]:"
                + " YAML alias *intruder (line 10, column 35) is not supported; quote a value that starts with '*'");
    }
}
