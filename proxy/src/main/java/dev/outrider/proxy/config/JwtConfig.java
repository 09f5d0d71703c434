package dev.outrider.proxy.config;

import java.time.Duration;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * How JWTs named by RequestAuthentication policies are verified, for every issuer.
 *
 * @param algorithms  accepted {@code alg} values (JOSE names); HMAC and {@code none} are never accepted
 * @param clockSkew   tolerance on {@code exp} and {@code nbf}
 * @param maxLength   longer tokens are refused (401) before they are parsed
 * @param cacheSize   verified tokens remembered (by hash), so a repeated token costs a lookup
 * @param jwksRefresh how long fetched issuer keys (JWKS) are used before they are fetched again
 */
public record JwtConfig(List<String> algorithms, Duration clockSkew, int maxLength, int cacheSize,
                        Duration jwksRefresh) {
    public JwtConfig {
        algorithms = List.copyOf(algorithms);
        requireNonNull(clockSkew, "clockSkew");
        requireNonNull(jwksRefresh, "jwksRefresh");
    }
}
