package dev.outrider.core.policy;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@link PolicyDocuments#parse}, the one reader of AuthorizationPolicy, RequestAuthentication and RateLimitPolicy
 * documents (control-plane API bodies, {@code outrider explain} and {@code ctl}, the sidecar's policy directory):
 * whatever the text, it returns documents or throws the {@link PolicyException} it documents, naming the source;
 * never another exception (a Jackson or SnakeYAML exception, a NullPointerException, an overflow). The input is the
 * text as UTF-8 (malformed bytes become U+FFFD, as a reader of a file or request body sees them).
 *
 * <p>Regression inputs: {@code src/test/resources/dev/outrider/core/policy/PolicyDocumentsFuzzTestInputs/};
 * fuzzing: docs/fuzzing.md.
 */
class PolicyDocumentsFuzzTest {
    private static final String SOURCE = "fuzz.yaml";

    @FuzzTest
    void onlyDocumentsOrPolicyExceptions(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        List<PolicyDocument> documents;
        try {
            documents = PolicyDocuments.parse(text, SOURCE);
        } catch (PolicyException e) {
            if (!SOURCE.equals(e.source()) || !e.getMessage().startsWith(SOURCE + ": ") || e.problem().isEmpty()) {
                throw new AssertionError("a PolicyException that does not name its source and problem: "
                        + e.getMessage(), e);
            }
            return;
        }
        for (PolicyDocument document : documents) {
            if (document == null || document.kind() == null || document.metadata() == null
                    || document.metadata().id() == null) {
                throw new AssertionError("an accepted document without kind or name: " + document);
            }
        }
    }
}
