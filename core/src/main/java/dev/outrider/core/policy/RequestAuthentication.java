package dev.outrider.core.policy;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Istio's RequestAuthentication: which JWTs a workload accepts. A request with a token that fails every
 * rule is refused (401); a request without a token passes with no request principal, and authorization
 * decides whether that is enough.
 */
public record RequestAuthentication(ObjectMeta metadata, WorkloadSelector selector, List<JwtRule> jwtRules)
        implements PolicyDocument {
    public RequestAuthentication {
        requireNonNull(metadata, "metadata");
        selector = selector == null ? WorkloadSelector.ALL : selector;
        jwtRules = jwtRules == null ? List.of() : List.copyOf(jwtRules);
    }

    @Override
    public String kind() {
        return "RequestAuthentication";
    }

    /**
     * @param audiences            accepted {@code aud} values; empty = any
     * @param jwksUri              where the issuer's keys are (https, or http on loopback for development)
     * @param jwks                 inline JWK Set JSON instead of {@code jwksUri}
     * @param fromHeaders          where the token is; empty = {@code Authorization: Bearer <token>}
     * @param fromParams           query parameters holding the token
     * @param forwardOriginalToken keep the token in the forwarded request (default: strip it)
     */
    public record JwtRule(String issuer, List<String> audiences, String jwksUri, String jwks,
                          List<JwtHeader> fromHeaders, List<String> fromParams, boolean forwardOriginalToken,
                          List<ClaimToHeader> outputClaimToHeaders) {
        public JwtRule {
            requireNonNull(issuer, "issuer");
            audiences = audiences == null ? List.of() : List.copyOf(audiences);
            fromHeaders = fromHeaders == null ? List.of() : List.copyOf(fromHeaders);
            fromParams = fromParams == null ? List.of() : List.copyOf(fromParams);
            outputClaimToHeaders = outputClaimToHeaders == null ? List.of() : List.copyOf(outputClaimToHeaders);
        }
    }

    /** A header carrying the token, after {@code prefix} (e.g. {@code "Bearer "}). */
    public record JwtHeader(String name, String prefix) {
        public JwtHeader {
            requireNonNull(name, "name");
            prefix = prefix == null ? "" : prefix;
        }
    }

    /** Copy claim {@code claim} of a verified token into request header {@code header}. */
    public record ClaimToHeader(String header, String claim) {
        public ClaimToHeader {
            requireNonNull(header, "header");
            requireNonNull(claim, "claim");
        }
    }
}
