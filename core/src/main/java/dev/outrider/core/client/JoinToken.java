package dev.outrider.core.client;

import dev.outrider.core.model.SpiffeId;

import java.time.Instant;

import static java.util.Objects.requireNonNull;

/**
 * A join token made by {@code POST /v1/join-tokens}: it lets one new sidecar get its first certificate, once.
 * {@link #toString()} leaves the token out, so the record can be logged.
 *
 * @param token     the secret; hand it to exactly one sidecar (its {@code controlPlane.joinToken} file)
 * @param identity  the identity a certificate requested with it will carry
 * @param expiresAt when it stops working if unused
 */
public record JoinToken(String token, SpiffeId identity, Instant expiresAt) {
    public JoinToken {
        requireNonNull(token, "token");
        requireNonNull(identity, "identity");
        requireNonNull(expiresAt, "expiresAt");
    }

    @Override
    public String toString() {
        return "JoinToken[token=<redacted>, identity=" + identity + ", expiresAt=" + expiresAt + "]";
    }
}
