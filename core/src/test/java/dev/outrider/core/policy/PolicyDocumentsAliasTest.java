package dev.outrider.core.policy;

import dev.outrider.core.policy.AuthorizationPolicy.Action;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * YAML anchors ({@code &name}) and aliases ({@code *name}) are refused with the field and what to write instead:
 * Jackson reads an alias as the anchor's name, so {@code principals: [*intruder]} would be stored as
 * {@code ["intruder"]}, a DENY that never matches. Quoted values starting with {@code *} or {@code &} are strings.
 */
class PolicyDocumentsAliasTest {
    /** A DENY policy; {@code %s} is the one principal, as written. */
    private static final String DENY = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-intruder, namespace: shop}
            spec:
              action: DENY
              rules:
              - from: [{source: {principals: [%s]}}]
            """;

    private static PolicyException refusal(String yaml) {
        PolicyException e = catchThrowableOfType(PolicyException.class, () -> PolicyDocuments.parse(yaml, "deny.yaml"));
        assertThat(e).as("refused").isNotNull();
        return e;
    }

    private static List<String> principals(String yaml) {
        AuthorizationPolicy policy = (AuthorizationPolicy) PolicyDocuments.parse(yaml, "deny.yaml").getFirst();
        assertThat(policy.action()).isEqualTo(Action.DENY);
        return policy.rules().getFirst().from().getFirst().source().principals();
    }

    @Test
    void anAliasToAnAnchorDefinedElsewhereIsRefusedAtTheAlias() {
        PolicyException e = refusal("""
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

        assertThat(e.path()).isEqualTo("spec.rules[0].from[0].source.principals[0]");
        assertThat(e.problem()).isEqualTo("YAML alias *intruder (line 10, column 35) is not supported; quote a value"
                + " that starts with '*' (\"*intruder\") or write the value out in full");
        assertThat(e).hasMessageStartingWith("deny.yaml: document 1 (line 1): spec.rules[0].from[0].source.principals[0]: ");
    }

    @Test
    void anUnquotedSuffixPatternIsAnAliasAndRefused() {
        PolicyException e = refusal(DENY.formatted("*intruder"));

        assertThat(e.path()).isEqualTo("spec.rules[0].from[0].source.principals[0]");
        assertThat(e.problem()).startsWith("YAML alias *intruder (line 7, column 35) is not supported; quote a value"
                + " that starts with '*' (\"*intruder\")");
    }

    @Test
    void anAliasIsNamedByItsOwnIndexInAList() {
        PolicyException e = refusal(DENY.formatted("\"cluster.local/ns/shop/sa/a\", \"*b\", *sa-c"));

        assertThat(e.path()).isEqualTo("spec.rules[0].from[0].source.principals[2]");
        assertThat(e.problem()).startsWith("YAML alias *sa-c (line 7, column 71) ").contains("(\"*sa-c\")");
    }

    @Test
    void aStarValueThatCannotBeAnAliasNameIsASyntaxErrorWithTheSameHint() {
        PolicyException e = refusal(DENY.formatted("*.example.com"));

        assertThat(e.path()).isEmpty();
        assertThat(e.problem()).isEqualTo("unexpected character found .(46) (line 7, column 36) in a YAML alias;"
                + " quote a value that starts with '*'");
    }

    @Test
    void anAnchorWithoutAnAliasIsRefusedToo() {
        PolicyException e = refusal(DENY.formatted("&who \"cluster.local/ns/shop/sa/intruder\""));

        assertThat(e.path()).isEqualTo("spec.rules[0].from[0].source.principals[0]");
        assertThat(e.problem()).isEqualTo("YAML anchor &who (line 7, column 35) is not supported; remove the anchor,"
                + " or quote a value that starts with '&'");
    }

    @Test
    void aMergeKeyIsRefused() {
        PolicyException e = refusal("""
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-intruder, namespace: shop}
                spec:
                  <<: *base
                  action: DENY
                """);

        assertThat(e.path()).isEqualTo("spec");
        assertThat(e.problem()).isEqualTo("YAML merge key <<: *base (line 5, column 7) is not supported; write the"
                + " fields out in full");
    }

    @Test
    void quotedValuesStartingWithStarOrAmpersandAreStrings() {
        assertThat(principals(DENY.formatted("\"*intruder\""))).containsExactly("*intruder");
        assertThat(principals(DENY.formatted("'*/sa/intruder'"))).containsExactly("*/sa/intruder");
        AuthorizationPolicy hosts = (AuthorizationPolicy) PolicyDocuments.parse("""
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: p, namespace: shop, annotations: {note: "&not-an-anchor"}}
                spec:
                  rules:
                  - to:
                    - operation:
                        hosts: ['*.example.com', "*.example.org"]
                """, "hosts.yaml").getFirst();
        assertThat(hosts.rules().getFirst().to().getFirst().operation().hosts())
                .containsExactly("*.example.com", "*.example.org");
        assertThat(hosts.metadata().annotations()).containsEntry("note", "&not-an-anchor");
    }

    @Test
    void jsonCarriesStarValuesAsStrings() {
        AuthorizationPolicy policy = (AuthorizationPolicy) PolicyDocuments.parse("""
                {"apiVersion": "outrider.dev/v1", "kind": "AuthorizationPolicy",
                 "metadata": {"name": "deny-intruder", "namespace": "shop"},
                 "spec": {"action": "DENY", "rules": [{"from": [{"source": {"principals": ["*intruder", "&x"]}}]}]}}
                """, "deny.json").getFirst();

        assertThat(policy.rules().getFirst().from().getFirst().source().principals())
                .containsExactly("*intruder", "&x");
    }
}
