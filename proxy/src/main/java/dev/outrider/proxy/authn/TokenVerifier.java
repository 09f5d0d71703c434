package dev.outrider.proxy.authn;

/**
 * Verifies a token at a given time; {@link JwtVerifier} and {@link TokenCache} in front of it. The token is a
 * {@link CharSequence} so that a request's token can be passed as a view of its header value
 * ({@link TokenExtractor.Token}): a cached token is looked up without a copy of it, and only a verifier that
 * parses it takes its {@code toString()}.
 */
public interface TokenVerifier {
    JwtVerifier.Result verify(CharSequence token, long nowEpochSeconds);
}
