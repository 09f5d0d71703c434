package dev.outrider.proxy.policy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.proxy.authn.JwksCache;
import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.proxy.config.JwtConfig;
import dev.outrider.proxy.config.NodeConfig;
import dev.outrider.proxy.config.PolicyConfig;
import dev.outrider.proxy.config.EscapedSlashes;
import dev.outrider.proxy.config.PathParameters;
import dev.outrider.proxy.policy.PolicyDirectoryWatcher.PolicyLoadException;
import dev.outrider.proxy.ratelimit.RateLimiter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@link PolicyDirectoryWatcher} on real directories, with the real {@link WorkloadPolicyCompiler},
 * {@link PolicyStore} and {@link PolicyMetrics}: the first snapshot, reloads (applied, refused, none), the
 * Kubernetes ConfigMap volume layout, and the per-policy meters following the policies in force.
 */
class PolicyDirectoryWatcherTest {
    /** Long enough that the timer never runs during a test: the tests call {@code check()} themselves. */
    private static final Duration NEVER = Duration.ofHours(1);
    private static final NodeConfig NODE = new NodeConfig("orders", "shop", "orders", "cluster.local",
            Map.of("app", "orders", "tier", "backend"));
    private static final PolicyConfig POLICIES = new PolicyConfig(null, DefaultAction.DENY, "outrider-system",
            EscapedSlashes.REJECT, PathParameters.REJECT, Duration.ofSeconds(2));
    private static final JwtConfig JWT = new JwtConfig(List.of("RS256", "ES256", "EdDSA"), Duration.ofSeconds(60),
            16 * 1024, 10_000, Duration.ofMinutes(5));

    private static final String ALLOW_FRONTEND = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-frontend, namespace: shop}
            spec:
              selector: {matchLabels: {app: orders}}
              action: ALLOW
              rules:
                - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                - to: [{operation: {methods: [GET], paths: ["/health"]}}]
            """;
    private static final String DENY_ADMIN = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-admin, namespace: shop}
            spec:
              selector: {matchLabels: {tier: backend}}
              action: DENY
              rules: [{to: [{operation: {paths: ["/admin/*"]}}]}]
            """;
    private static final String OTHER_NAMESPACE = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-all, namespace: billing}
            spec:
              action: ALLOW
              rules: [{}]
            """;
    private static final String OTHER_WORKLOAD = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-payments, namespace: shop}
            spec:
              selector: {matchLabels: {app: payments}}
              action: ALLOW
              rules: [{}]
            """;
    private static final String MESH_WIDE = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-debug, namespace: outrider-system}
            spec:
              action: DENY
              rules: [{to: [{operation: {paths: ["/debug/*"]}}]}]
            """;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PolicyMetrics metrics = new PolicyMetrics(registry);
    private final JwksCache jwks = new JwksCache(JwksCache.Config.defaults());
    private final RateLimiter rateLimiter = new RateLimiter(10_000, Duration.ZERO, System::nanoTime, registry);
    private final WorkloadPolicyCompiler compiler = new WorkloadPolicyCompiler(NODE, POLICIES, JWT, jwks, metrics,
            rateLimiter);
    private final List<PolicyDirectoryWatcher> watchers = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        watchers.forEach(PolicyDirectoryWatcher::close);
        jwks.close();
    }

    private PolicyDirectoryWatcher start(Path directory, Duration interval) {
        PolicyDirectoryWatcher w = PolicyDirectoryWatcher.start(directory, interval, compiler, metrics);
        watchers.add(w);
        return w;
    }

    private static void write(Path file, String... documents) throws IOException {
        Files.writeString(file, String.join("---\n", documents));
    }

    /** The version the watcher must give: SHA-256 over (name, 0, content, 0) of the policy files by name. */
    private static String expectedVersion(Path directory, String... files) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (String name : java.util.Arrays.stream(files).sorted().toList()) {
            sha.update(name.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(Files.readAllBytes(directory.resolve(name)));
            sha.update((byte) 0);
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 6);
    }

    private double reloads(String result) {
        return registry.get("outrider_policy_reloads").tag("result", result).counter().count();
    }

    private List<String> decisionPolicies() {
        return registry.find("outrider_authz_decisions").counters().stream()
                .map(c -> c.getId().getTag("policy")).distinct().sorted().toList();
    }

    // --- start ----------------------------------------------------------------------------------------

    @Test
    void startCompilesTheDocumentsThatApplyToTheWorkload() throws Exception {
        write(dir.resolve("a.yaml"), ALLOW_FRONTEND, DENY_ADMIN);
        write(dir.resolve("b.yml"), OTHER_NAMESPACE, OTHER_WORKLOAD);
        write(dir.resolve("c.json"), "{\"apiVersion\": \"outrider.dev/v1\", \"kind\": \"AuthorizationPolicy\","
                + " \"metadata\": {\"name\": \"deny-debug\", \"namespace\": \"outrider-system\"},"
                + " \"spec\": {\"action\": \"DENY\", \"rules\": [{\"to\": [{\"operation\": {\"paths\": [\"/debug/*\"]}}]}]}}");
        Files.writeString(dir.resolve("README.md"), "not a policy file");
        Files.writeString(dir.resolve(".hidden.yaml"), "not: [valid");

        PolicyDirectoryWatcher w = start(dir, NEVER);
        PolicySnapshot s = w.store().current();

        assertThat(s.version()).isEqualTo(expectedVersion(dir, "a.yaml", "b.yml", "c.json")).hasSize(12);
        assertThat(s.source()).isEqualTo("directory " + dir);
        assertThat(s.documents()).isEqualTo(5);
        assertThat(s.policies()).containsExactly("shop/allow-frontend", "shop/deny-admin",
                "outrider-system/deny-debug");
        assertThat(s.authorization().ruleCount()).isEqualTo(4);
        assertThat(s.authentication().isEmpty()).isTrue();
        assertThat(reloads("applied")).isEqualTo(1.0);
        assertThat(reloads("refused")).isZero();
        assertThat(registry.get("outrider_policy_rules").gauge().value()).isEqualTo(4.0);
        assertThat(decisionPolicies()).containsExactly("none", "outrider-system/deny-debug", "shop/allow-frontend",
                "shop/deny-admin");
    }

    @Test
    void theVersionIsTheContentHashOfNamesAndContent() throws Exception {
        write(dir.resolve("a.yaml"), ALLOW_FRONTEND);
        String one = PolicyDirectoryWatcher.contentHash(dir);
        assertThat(one).isEqualTo(expectedVersion(dir, "a.yaml"));
        Files.move(dir.resolve("a.yaml"), dir.resolve("b.yaml"));
        assertThat(PolicyDirectoryWatcher.contentHash(dir)).as("a rename is a change").isNotEqualTo(one);
        Files.move(dir.resolve("b.yaml"), dir.resolve("a.yaml"));
        Files.setLastModifiedTime(dir.resolve("a.yaml"), FileTime.fromMillis(0));
        assertThat(PolicyDirectoryWatcher.contentHash(dir)).as("a touch is not").isEqualTo(one);
    }

    @Test
    void anEmptyDirectoryIsASnapshotWithoutPolicies() {
        PolicySnapshot s = start(dir, NEVER).store().current();
        assertThat(s.policies()).isEmpty();
        assertThat(s.documents()).isZero();
        assertThat(s.authorization().ruleCount()).isZero();
        assertThat(s.authorization().defaultAction()).isEqualTo(DefaultAction.DENY);
    }

    @Test
    void startOnAMissingDirectoryFails() {
        Path missing = dir.resolve("absent");
        assertThatThrownBy(() -> start(missing, NEVER))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessage("policies.directory: " + missing + " is not a directory");
        assertThat(reloads("applied")).isZero();
    }

    @Test
    void startOnAFileFails() throws IOException {
        Path file = dir.resolve("policies.yaml");
        write(file, ALLOW_FRONTEND);
        assertThatThrownBy(() -> start(file, NEVER))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessage("policies.directory: " + file + " is not a directory");
    }

    @Test
    void startWithAnInvalidDocumentFailsNamingTheFileAndField() throws IOException {
        write(dir.resolve("a.yaml"), ALLOW_FRONTEND);
        write(dir.resolve("b.yaml"), DENY_ADMIN.replace("action: DENY", "action: REJECT"));
        assertThatThrownBy(() -> start(dir, NEVER))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessageStartingWith("b.yaml: AuthorizationPolicy shop/deny-admin: spec.action: ");
    }

    @Test
    void startWithBrokenYamlFailsNamingTheFile() throws IOException {
        Files.writeString(dir.resolve("broken.yaml"), "apiVersion: [outrider.dev/v1\n");
        assertThatThrownBy(() -> start(dir, NEVER))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessageStartingWith("broken.yaml: ");
    }

    @Test
    void startWithAPolicyThatDoesNotCompileFailsNamingThePolicyAndField() throws IOException {
        write(dir.resolve("authn.yaml"), requestAuthentication("shop", "host"));
        assertThatThrownBy(() -> start(dir, NEVER))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessage("shop/jwt.jwtRules[0].outputClaimToHeaders[0].header: 'host' cannot carry a claim");
    }

    @Test
    void theSamePolicyInTwoFilesIsRefused() throws IOException {
        write(dir.resolve("a.yaml"), ALLOW_FRONTEND);
        write(dir.resolve("b.yaml"), ALLOW_FRONTEND);
        assertThatThrownBy(() -> start(dir, NEVER))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessage("b.yaml: AuthorizationPolicy shop/allow-frontend: metadata.name: already defined in a.yaml");
    }

    // --- RequestAuthentication selection --------------------------------------------------------------

    private static String requestAuthentication(String namespace, String claimHeader) {
        JWKSet keys;
        try {
            keys = new JWKSet(new ECKeyGenerator(Curve.P_256).keyID("k1").generate().toPublicJWK());
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return """
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: %s}
                spec:
                  jwtRules:
                    - issuer: https://issuer.test
                      jwks: '%s'
                      outputClaimToHeaders: [{header: '%s', claim: sub}]
                """.formatted(namespace, keys, claimHeader);
    }

    @Test
    void requestAuthenticationAppliesOnlyInTheWorkloadsOrTheRootNamespace() {
        PolicySnapshot other = compiler.compile("v1", "test",
                PolicyDocuments.parse(requestAuthentication("billing", "x-sub"), "t.yaml"));
        assertThat(other.authentication().isEmpty()).isTrue();
        PolicySnapshot own = compiler.compile("v2", "test",
                PolicyDocuments.parse(requestAuthentication("shop", "x-sub"), "t.yaml"));
        assertThat(own.authentication().isEmpty()).isFalse();
        assertThat(own.policies()).as("AuthorizationPolicies only").isEmpty();
        PolicySnapshot root = compiler.compile("v3", "test",
                PolicyDocuments.parse(requestAuthentication("outrider-system", "x-sub"), "t.yaml"));
        assertThat(root.authentication().isEmpty()).isFalse();
    }

    @Test
    void policiesOfNeitherTheWorkloadsNorTheRootNamespaceAreNamed() {
        List<PolicyDocument> docs = new ArrayList<>();
        docs.addAll(PolicyDocuments.parse(requestAuthentication("shop", "x-sub"), "a.yaml"));
        docs.addAll(PolicyDocuments.parse(requestAuthentication("outrider-system", "x-sub"), "b.yaml"));
        assertThat(compiler.foreignNamespaces(docs)).isEmpty();
        docs.addAll(PolicyDocuments.parse(requestAuthentication("mesh-root", "x-sub"), "c.yaml"));
        assertThat(compiler.foreignNamespaces(docs)).containsExactly("mesh-root");
    }

    @Test
    void defaultActionComesFromTheConfig() {
        PolicyConfig allow = new PolicyConfig(null, DefaultAction.ALLOW, "outrider-system", EscapedSlashes.REJECT, PathParameters.REJECT,
                Duration.ofSeconds(2));
        PolicySnapshot s = new WorkloadPolicyCompiler(NODE, allow, JWT, jwks, metrics, rateLimiter)
                .compile("v", "test", List.of());
        assertThat(s.authorization().defaultAction()).isEqualTo(DefaultAction.ALLOW);
    }

    // --- reloads --------------------------------------------------------------------------------------

    @Test
    void aChangedFileIsApplied() throws Exception {
        Path file = dir.resolve("policies.yaml");
        write(file, ALLOW_FRONTEND);
        PolicyDirectoryWatcher w = start(dir, NEVER);
        PolicySnapshot first = w.store().current();

        write(file, ALLOW_FRONTEND, DENY_ADMIN);
        w.check();

        PolicySnapshot next = w.store().current();
        assertThat(next).isNotSameAs(first);
        assertThat(next.version()).isEqualTo(expectedVersion(dir, "policies.yaml")).isNotEqualTo(first.version());
        assertThat(next.policies()).containsExactly("shop/allow-frontend", "shop/deny-admin");
        assertThat(next.authorization().ruleCount()).isEqualTo(3);
        assertThat(reloads("applied")).isEqualTo(2.0);
        assertThat(registry.get("outrider_policy_rules").gauge().value()).isEqualTo(3.0);
    }

    @Test
    void aNewFileIsApplied() throws Exception {
        write(dir.resolve("a.yaml"), ALLOW_FRONTEND);
        PolicyDirectoryWatcher w = start(dir, NEVER);
        write(dir.resolve("b.yaml"), MESH_WIDE);
        w.check();
        assertThat(w.store().current().policies()).containsExactly("shop/allow-frontend",
                "outrider-system/deny-debug");
    }

    @Test
    void unchangedContentMakesNoNewSnapshot() throws Exception {
        Path file = dir.resolve("policies.yaml");
        write(file, ALLOW_FRONTEND);
        PolicyDirectoryWatcher w = start(dir, NEVER);
        PolicySnapshot first = w.store().current();

        w.check();
        write(file, ALLOW_FRONTEND); // rewritten with the same bytes
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        Files.writeString(dir.resolve("notes.txt"), "ignored");
        w.check();

        assertThat(w.store().current()).isSameAs(first);
        assertThat(reloads("applied")).isEqualTo(1.0);
    }

    @Test
    void anInvalidChangeIsRefusedAndTheSnapshotInForceStays() throws Exception {
        Path file = dir.resolve("policies.yaml");
        write(file, ALLOW_FRONTEND);
        PolicyDirectoryWatcher w = start(dir, NEVER);
        PolicySnapshot first = w.store().current();

        write(file, ALLOW_FRONTEND, DENY_ADMIN.replace("paths:", "pathz:"));
        w.check();
        assertThat(w.store().current()).isSameAs(first);
        assertThat(w.store().current().version()).isEqualTo(first.version());
        assertThat(reloads("refused")).isEqualTo(1.0);
        assertThat(reloads("applied")).isEqualTo(1.0);

        w.check(); // the same refused content is not refused (nor counted) again
        assertThat(reloads("refused")).isEqualTo(1.0);

        write(file, "kind: [\n"); // another invalid change
        w.check();
        assertThat(reloads("refused")).isEqualTo(2.0);
        assertThat(w.store().current()).isSameAs(first);

        write(file, ALLOW_FRONTEND, DENY_ADMIN);
        w.check();
        assertThat(w.store().current().policies()).containsExactly("shop/allow-frontend", "shop/deny-admin");
        assertThat(w.store().current().version()).isEqualTo(expectedVersion(dir, "policies.yaml"));
        assertThat(reloads("applied")).isEqualTo(2.0);
    }

    @Test
    void aYamlAliasIsRefusedAtStartAndOnReload() throws Exception {
        String denyIntruder = DENY_ADMIN.replace("rules: [{to: [{operation: {paths: [\"/admin/*\"]}}]}]",
                "rules: [{from: [{source: {principals: [*intruder]}}]}]");
        write(dir.resolve("a.yaml"), denyIntruder);
        assertThatThrownBy(() -> start(dir, NEVER))
                .isInstanceOf(PolicyLoadException.class)
                .hasMessage("a.yaml: document 1 (line 1): spec.rules[0].from[0].source.principals[0]: YAML alias"
                        + " *intruder (line 7, column 42) is not supported; quote a value that starts with '*'"
                        + " (\"*intruder\") or write the value out in full");

        write(dir.resolve("a.yaml"), denyIntruder.replace("*intruder", "\"*intruder\""));
        PolicyDirectoryWatcher w = start(dir, NEVER);
        PolicySnapshot first = w.store().current();
        assertThat(first.policies()).containsExactly("shop/deny-admin");

        write(dir.resolve("a.yaml"), denyIntruder);
        w.check();
        assertThat(w.store().current()).isSameAs(first);
        assertThat(reloads("refused")).isEqualTo(1.0);
    }

    @Test
    void aChangeThatDoesNotCompileIsRefused() throws Exception {
        write(dir.resolve("a.yaml"), ALLOW_FRONTEND);
        PolicyDirectoryWatcher w = start(dir, NEVER);
        PolicySnapshot first = w.store().current();

        write(dir.resolve("authn.yaml"), requestAuthentication("shop", ":path"));
        w.check();
        assertThat(w.store().current()).isSameAs(first);
        assertThat(reloads("refused")).isEqualTo(1.0);

        write(dir.resolve("authn.yaml"), requestAuthentication("shop", "x-jwt-sub"));
        w.check();
        assertThat(w.store().current().authentication().isEmpty()).isFalse();
    }

    @Test
    void anUnreadableDirectoryIsRefusedOnceAndItsReturnApplied() throws Exception {
        Path policies = Files.createDirectory(dir.resolve("policies"));
        write(policies.resolve("a.yaml"), ALLOW_FRONTEND);
        PolicyDirectoryWatcher w = start(policies, NEVER);
        PolicySnapshot first = w.store().current();

        Files.move(policies, dir.resolve("moved"));
        w.check();
        w.check();
        assertThat(w.store().current()).isSameAs(first);
        assertThat(reloads("refused")).isEqualTo(1.0);

        Files.move(dir.resolve("moved"), policies);
        write(policies.resolve("a.yaml"), ALLOW_FRONTEND, DENY_ADMIN);
        w.check();
        assertThat(w.store().current().policies()).containsExactly("shop/allow-frontend", "shop/deny-admin");
    }

    @Test
    void theTimerAppliesAChange() throws Exception {
        Path file = dir.resolve("policies.yaml");
        write(file, ALLOW_FRONTEND);
        PolicyDirectoryWatcher w = start(dir, Duration.ofMillis(50));
        PolicySnapshot first = w.store().current();

        write(file, ALLOW_FRONTEND, DENY_ADMIN);
        String expected = expectedVersion(dir, "policies.yaml");
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(w.store().current().version()).isEqualTo(expected));
        assertThat(w.store().current().policies()).containsExactly("shop/allow-frontend", "shop/deny-admin");
        assertThat(first.policies()).as("a snapshot never changes").containsExactly("shop/allow-frontend");
    }

    @Test
    void closeStopsWatching() throws Exception {
        Path file = dir.resolve("policies.yaml");
        write(file, ALLOW_FRONTEND);
        PolicyDirectoryWatcher w = start(dir, Duration.ofMillis(20));
        PolicySnapshot first = w.store().current();
        w.close();
        write(file, ALLOW_FRONTEND, DENY_ADMIN);
        Thread.sleep(200); // ten intervals: a running timer would have applied the change
        assertThat(w.store().current()).isSameAs(first);
    }

    // --- Kubernetes ConfigMap volume ------------------------------------------------------------------

    /**
     * The kubelet's layout: {@code <key> -> ..data/<key>}, {@code ..data -> ..<timestamp>}; an update writes a
     * new timestamped directory, points a temporary link at it and renames that over {@code ..data}.
     */
    @Test
    void aConfigMapVolumeUpdateIsApplied() throws Exception {
        Path v1 = Files.createDirectory(dir.resolve("..2026_11_22_01"));
        write(v1.resolve("authz.yaml"), ALLOW_FRONTEND);
        Files.createSymbolicLink(dir.resolve("..data"), Path.of(v1.getFileName().toString()));
        Files.createSymbolicLink(dir.resolve("authz.yaml"), Path.of("..data", "authz.yaml"));

        PolicyDirectoryWatcher w = start(dir, NEVER);
        PolicySnapshot first = w.store().current();
        assertThat(first.policies()).containsExactly("shop/allow-frontend");
        assertThat(first.documents()).as("hidden entries are not read").isEqualTo(1);

        Path v2 = Files.createDirectory(dir.resolve("..2026_11_22_02"));
        write(v2.resolve("authz.yaml"), ALLOW_FRONTEND, DENY_ADMIN);
        Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of(v2.getFileName().toString()));
        Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
        Files.delete(v1.resolve("authz.yaml"));
        Files.delete(v1);

        w.check();
        PolicySnapshot next = w.store().current();
        assertThat(next).isNotSameAs(first);
        assertThat(next.policies()).containsExactly("shop/allow-frontend", "shop/deny-admin");
        assertThat(next.version()).isEqualTo(expectedVersion(dir, "authz.yaml"));
        assertThat(reloads("applied")).isEqualTo(2.0);

        w.check();
        assertThat(w.store().current()).isSameAs(next);
    }

    // --- per-policy meters ----------------------------------------------------------------------------

    @Test
    void metersOfAPolicyNoLongerInForceAreRemoved() throws Exception {
        Path file = dir.resolve("policies.yaml");
        write(file, ALLOW_FRONTEND, DENY_ADMIN);
        PolicyDirectoryWatcher w = start(dir, NEVER);
        assertThat(decisionPolicies()).containsExactly("none", "shop/allow-frontend", "shop/deny-admin");
        assertThat(registry.find("outrider_authz_decisions").tag("policy", "shop/deny-admin").counters()).hasSize(4);
        Counter allowFrontend = registry.get("outrider_authz_decisions").tag("policy", "shop/allow-frontend")
                .tag("decision", "allow").tag("mode", "enforced").counter();

        write(file, ALLOW_FRONTEND);
        w.check();

        assertThat(decisionPolicies()).containsExactly("none", "shop/allow-frontend");
        assertThat(registry.find("outrider_authz_decisions").tag("policy", "shop/deny-admin").counters()).isEmpty();
        assertThat(registry.get("outrider_authz_decisions").tag("policy", "shop/allow-frontend")
                .tag("decision", "allow").tag("mode", "enforced").counter())
                .as("a policy still in force keeps its series").isSameAs(allowFrontend);

        // the policy comes back: its series is registered again and counts from the new snapshot
        write(file, ALLOW_FRONTEND, DENY_ADMIN);
        w.check();
        assertThat(decisionPolicies()).containsExactly("none", "shop/allow-frontend", "shop/deny-admin");
    }

    @Test
    void aRefusedChangeRegistersNoMeters() throws Exception {
        Path file = dir.resolve("policies.yaml");
        write(file, ALLOW_FRONTEND);
        PolicyDirectoryWatcher w = start(dir, NEVER);
        // deny-admin compiles; the RequestAuthentication next to it does not: nothing of the change is kept
        write(dir.resolve("z.yaml"), DENY_ADMIN, requestAuthentication("shop", "authorization"));
        w.check();
        assertThat(reloads("refused")).isEqualTo(1.0);
        assertThat(w.store().current().policies()).containsExactly("shop/allow-frontend");
        assertThat(decisionPolicies()).containsExactly("none", "shop/allow-frontend");
    }
}
