package dev.outrider.proxy.authn;

/** Verifies a token at a given time; {@link JwtVerifier} and {@link TokenCache} in front of it. */
public interface TokenVerifier {
    JwtVerifier.Result verify(String token, long nowEpochSeconds);
}
