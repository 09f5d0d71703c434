package dev.outrider.core.policy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PolicyDocumentsDirectoryTest {
    @TempDir
    Path dir;

    private static String policy(String kind, String namespace, String name) {
        return """
                apiVersion: outrider.dev/v1
                kind: %s
                metadata: {name: %s, namespace: %s}
                """.formatted(kind, name, namespace)
                + (kind.equals("RequestAuthentication") ? "spec: {jwtRules: [{issuer: a, jwksUri: \"https://i.example/k\"}]}\n" : "");
    }

    private void write(String name, String text) throws IOException {
        Files.writeString(dir.resolve(name), text);
    }

    private static String ids(List<PolicyDocument> documents) {
        return String.join(",", documents.stream().map(d -> d.kind().substring(0, 1) + ":" + d.metadata().id()).toList());
    }

    @Test
    void readsPolicyFilesInNameOrderAndNothingElse() throws IOException {
        write("b.yml", policy("AuthorizationPolicy", "shop", "b1") + "---\n" + policy("RequestAuthentication", "shop", "b2"));
        write("a.yaml", policy("AuthorizationPolicy", "shop", "a"));
        write("c.json", """
                {"apiVersion": "outrider.dev/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "c", "namespace": "shop"}}
                """);
        write(".hidden.yaml", "not: [a policy");
        write("notes.txt", "not a policy");
        write("a.yaml.orig", "not a policy");
        Files.createDirectory(dir.resolve("sub.yaml"));
        Files.writeString(dir.resolve("sub.yaml").resolve("d.yaml"), policy("AuthorizationPolicy", "shop", "d"));

        assertThat(ids(PolicyDocuments.loadDirectory(dir))).isEqualTo("A:shop/a,A:shop/b1,R:shop/b2,A:shop/c");
    }

    @Test
    void readsARateLimitPolicyNextToAnAuthorizationPolicy() throws IOException {
        write("authz.yaml", policy("AuthorizationPolicy", "shop", "allow-frontend")
                + "spec: {rules: [{from: [{source: {principals: [\"cluster.local/ns/shop/sa/frontend\"]}}]}]}\n");
        write("limits.yaml", """
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata: {name: orders-limits, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  rules:
                  - key: source.principal
                    limit: {requests: 100, per: 1s}
                """);

        List<PolicyDocument> documents = PolicyDocuments.loadDirectory(dir);

        assertThat(documents).extracting(PolicyDocument::kind).containsExactly("AuthorizationPolicy", "RateLimitPolicy");
        assertThat(ids(documents)).isEqualTo("A:shop/allow-frontend,R:shop/orders-limits");
        RateLimitPolicy limits = (RateLimitPolicy) documents.get(1);
        assertThat(limits.selector().matchLabels()).containsExactly(Map.entry("app", "orders"));
        assertThat(limits.rules()).extracting(RateLimitPolicy.Rule::name).containsExactly("rule-0");
        assertThat(limits.rules().getFirst().limit())
                .isEqualTo(new RateLimitPolicy.Limit(100, Duration.ofSeconds(1), 100));
    }

    @Test
    void aRateLimitPolicyErrorNamesItsFile() throws IOException {
        write("a.yaml", policy("AuthorizationPolicy", "shop", "a"));
        write("limits.yaml", policy("RateLimitPolicy", "shop", "limits") + "spec: {rules: [{limit: {requests: 1, per: 1}}]}\n");

        assertThatThrownBy(() -> PolicyDocuments.loadDirectory(dir))
                .isInstanceOf(PolicyException.class)
                .hasMessageStartingWith("limits.yaml: RateLimitPolicy shop/limits: spec.rules[0].limit.per: expected a"
                        + " duration with a unit");
    }

    @Test
    void emptyDirectoryHasNoDocuments() {
        assertThat(PolicyDocuments.loadDirectory(dir)).isEmpty();
    }

    @Test
    void theSameDocumentInTwoFilesIsRefusedNamingBoth() throws IOException {
        write("a.yaml", policy("AuthorizationPolicy", "shop", "allow-frontend"));
        write("b.yaml", policy("RequestAuthentication", "shop", "allow-frontend") + "---\n"
                + policy("AuthorizationPolicy", "shop", "allow-frontend"));

        assertThatThrownBy(() -> PolicyDocuments.loadDirectory(dir))
                .isInstanceOf(PolicyException.class)
                .hasMessage("b.yaml: AuthorizationPolicy shop/allow-frontend: metadata.name: already defined in a.yaml");
    }

    @Test
    void errorsNameTheFile() throws IOException {
        write("a.yaml", policy("AuthorizationPolicy", "shop", "a"));
        write("z.yaml", policy("AuthorizationPolicy", "shop", "z") + "spec: {action: CUSTOM}\n");

        assertThatThrownBy(() -> PolicyDocuments.loadDirectory(dir))
                .isInstanceOf(PolicyException.class)
                .hasMessageStartingWith("z.yaml: AuthorizationPolicy shop/z: spec.action: action CUSTOM");
    }

    @Test
    void aFileThatIsNotUtf8IsRefused() throws IOException {
        Files.write(dir.resolve("latin1.yaml"), new byte[] {'a', ':', ' ', (byte) 0xE9, '\n'});

        assertThatThrownBy(() -> PolicyDocuments.loadDirectory(dir))
                .isInstanceOf(PolicyException.class)
                .hasMessage("latin1.yaml: is not UTF-8 text");
    }

    @Test
    void aByteOrderMarkIsIgnored() throws IOException {
        write("bom.yaml", "\uFEFF" + policy("AuthorizationPolicy", "shop", "a"));
        write("bom.json", "\uFEFF{\"apiVersion\": \"outrider.dev/v1\", \"kind\": \"AuthorizationPolicy\","
                + " \"metadata\": {\"name\": \"b\", \"namespace\": \"shop\"}}");

        assertThat(ids(PolicyDocuments.loadDirectory(dir))).isEqualTo("A:shop/b,A:shop/a");
    }

    @Test
    void aMissingDirectoryIsAnIoError() {
        assertThatThrownBy(() -> PolicyDocuments.loadDirectory(dir.resolve("missing")))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("missing");
    }
}
