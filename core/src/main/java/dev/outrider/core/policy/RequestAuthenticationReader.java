package dev.outrider.core.policy;

import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.policy.RequestAuthentication.ClaimToHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtRule;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads the {@code spec} of a RequestAuthentication, in Istio's layout (selector, jwtRules), into a
 * {@link RequestAuthentication}, failing on the first problem with its path. The schema is the lists of known
 * fields below; {@link DocumentReader} reads the envelope and chooses the reader by kind. Pure functions.
 */
final class RequestAuthenticationReader {
    static final List<String> SPEC = List.of("selector", "jwtRules");
    private static final List<String> JWT_RULE = List.of("issuer", "audiences", "jwksUri", "jwks", "fromHeaders",
            "fromParams", "forwardOriginalToken", "outputClaimToHeaders");
    private static final List<String> JWT_HEADER = List.of("name", "prefix");
    private static final List<String> CLAIM_TO_HEADER = List.of("header", "claim");

    private RequestAuthenticationReader() {
    }

    static RequestAuthentication read(ObjectMeta metadata, DocumentFields spec) {
        WorkloadSelector selector = DocumentReader.selector(spec);
        List<JwtRule> rules = new ArrayList<>();
        for (DocumentFields.Item item : spec.list("jwtRules")) {
            rules.add(jwtRule(spec.mapping(item, JWT_RULE)));
        }
        return new RequestAuthentication(metadata, selector, rules);
    }

    private static JwtRule jwtRule(DocumentFields r) {
        String issuer = r.requiredString("issuer", DocumentFields.Check.ANY);
        List<String> audiences = r.strings("audiences", DocumentFields.Check.ANY);
        String jwksUri = r.string("jwksUri", PolicyValues::jwksUri);
        String jwks = r.string("jwks", PolicyValues::jwks);
        if (jwksUri == null && jwks == null) {
            throw r.errors().fail(r.path(), "needs jwksUri or jwks");
        }
        if (jwksUri != null && jwks != null) {
            throw r.errors().fail(r.path("jwks"), "set jwksUri or jwks, not both");
        }
        List<JwtHeader> fromHeaders = new ArrayList<>();
        for (DocumentFields.Item item : r.list("fromHeaders")) {
            DocumentFields h = r.mapping(item, JWT_HEADER);
            fromHeaders.add(new JwtHeader(h.requiredString("name", PolicyValues::headerName),
                    h.string("prefix", DocumentFields.Check.ANY)));
        }
        List<String> fromParams = r.strings("fromParams", PolicyValues::queryParameter);
        boolean forward = r.bool("forwardOriginalToken", false);
        List<ClaimToHeader> claimsToHeaders = new ArrayList<>();
        for (DocumentFields.Item item : r.list("outputClaimToHeaders")) {
            DocumentFields h = r.mapping(item, CLAIM_TO_HEADER);
            claimsToHeaders.add(new ClaimToHeader(h.requiredString("header", PolicyValues::outputHeader),
                    h.requiredString("claim", DocumentFields.Check.ANY)));
        }
        return new JwtRule(issuer, audiences, jwksUri, jwks, fromHeaders, fromParams, forward, claimsToHeaders);
    }
}
