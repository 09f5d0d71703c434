package dev.outrider.proxy.authn;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.util.Base64URL;
import dev.outrider.core.policy.ObjectMeta;
import dev.outrider.core.policy.RequestAuthentication;
import dev.outrider.core.policy.RequestAuthentication.ClaimToHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtRule;
import dev.outrider.proxy.http.RequestPathPolicy;
import dev.outrider.proxy.http.RequestPathPolicy.Ok;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.util.Arrays;
import java.util.List;

import static dev.outrider.proxy.authn.TestTokens.ISSUER;
import static dev.outrider.proxy.authn.TestTokens.NOW;

/**
 * The JWT path of a request: {@link RequestAuthenticator#authenticate} (token extraction from the
 * {@code Authorization} header, a custom header and the query, then {@link JwtVerifier#verify}) with keys made
 * here, so whatever the bytes, the outcome is no token ({@code null}), a refusal (401) or a verified token, and
 * never an exception. The first byte of the input picks what the rest is ({@code '0'}..{@code '3'} in the seeds):
 * <ol start="0">
 *   <li>a token, sent as {@code Authorization: Bearer <token>} and to the verifier as is: nothing made from bytes
 *       alone can be valid, since the fuzzer never sees the private keys;</li>
 *   <li>the claims (JWS payload, any bytes), signed here with the ES256 key: a verified token must satisfy the
 *       rule's issuer, audience and time checks;</li>
 *   <li>the JOSE header (any bytes), signed here with the RS256 key: a verified token must say RS256 and carry no
 *       {@code crit};</li>
 *   <li>a query string (as path normalization passes it on) on a request without other token.</li>
 * </ol>
 * Caller-sent claim headers never survive unless a verified token sets them.
 *
 * <p>Regression inputs: {@code src/test/resources/dev/outrider/proxy/authn/JwtPathFuzzTestInputs/}; fuzzing:
 * docs/fuzzing.md.
 */
class JwtPathFuzzTest {
    private static final TestTokens KEYS = new TestTokens("fuzz");
    private static final String FORGED = "forged-by-caller";
    private static final JwtRule DEFAULT_LOCATIONS = new JwtRule(ISSUER, List.of("api"), null,
            KEYS.publicSet().toString(), null, null, false,
            List.of(new ClaimToHeader("x-jwt-sub", "sub"), new ClaimToHeader("x-jwt-groups", "groups"),
                    new ClaimToHeader("x-jwt-nested", "a.b")));
    private static final JwtRule CUSTOM_LOCATIONS = new JwtRule(ISSUER, List.of("api"), null,
            KEYS.publicSet().toString(), List.of(new JwtHeader("x-token", "")), List.of("token"), true, List.of());
    private static final RequestAuthentication POLICY = new RequestAuthentication(
            new ObjectMeta("jwt", "fuzz", null), null, List.of(DEFAULT_LOCATIONS, CUSTOM_LOCATIONS));
    private static final JwtVerifier VERIFIER =
            JwtVerifier.compile(List.of(POLICY), null, JwtVerifier.Options.defaults());
    private static final RequestAuthenticator AUTHENTICATOR = RequestAuthenticator.compile(List.of(POLICY), VERIFIER);
    private static final long SKEW = JwtVerifier.Options.DEFAULT_CLOCK_SKEW.toSeconds();

    @FuzzTest
    void onlyRefusalsOrVerifiedTokens(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int mode = (input[0] & 0xFF) % 4;
        byte[] rest = Arrays.copyOfRange(input, 1, input.length);
        switch (mode) {
            case 0 -> {
                String token = new String(rest, StandardCharsets.ISO_8859_1);
                JwtVerifier.Result direct = VERIFIER.verify(token, NOW);
                check(!(direct instanceof JwtVerifier.Result.Valid), input, "a token the fuzzer made alone verified");
                authenticate(input, "/p", "Bearer " + token, true);
            }
            case 1 -> {
                String token = signClaims(rest);
                JwtVerifier.Result result = VERIFIER.verify(token, NOW);
                if (result instanceof JwtVerifier.Result.Valid valid) {
                    check(ISSUER.equals(valid.issuer()), input, "wrong issuer verified: " + valid.issuer());
                    check(valid.audiences().contains("api"), input, "wrong audience verified: " + valid.audiences());
                    check(valid.expiresAt() + SKEW >= NOW, input, "expired token verified: " + valid.expiresAt());
                }
                authenticate(input, "/p", "Bearer " + token, false);
            }
            case 2 -> {
                String token = signHeader(rest);
                JwtVerifier.Result result = VERIFIER.verify(token, NOW);
                if (result instanceof JwtVerifier.Result.Valid) {
                    JWSHeader header = parseHeader(rest);
                    check(header != null && JWSAlgorithm.RS256.equals(header.getAlgorithm())
                                    && (header.getCriticalParams() == null || header.getCriticalParams().isEmpty()),
                            input, "verified with header " + header);
                }
                authenticate(input, "/p", "Bearer " + token, false);
            }
            default -> authenticate(input, "/p?" + new String(rest, StandardCharsets.ISO_8859_1), null, true);
        }
    }

    /**
     * Runs the authenticator on a request carrying {@code authorization} (when not null) and forged claim headers.
     * {@code unsigned}: the input had no access to the keys, so nothing may verify.
     */
    private static void authenticate(byte[] input, String target, String authorization, boolean unsigned) {
        if (!(RequestPathPolicy.normalizeForAuthorization(target, RequestPathPolicy.Rules.DEFAULT) instanceof Ok ok)) {
            return; // refused with 400 before authentication runs
        }
        HttpRequest request;
        try {
            request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, ok.target());
            request.headers().set(HttpHeaderNames.HOST, "app.test");
            request.headers().set("x-jwt-sub", FORGED);
            if (authorization != null) {
                request.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
            }
        } catch (IllegalArgumentException e) {
            return; // a header value the HTTP codecs refuse (CR, LF, NUL, ...): never reaches authentication
        }
        JwtVerifier.Result result = AUTHENTICATOR.authenticate(request, NOW);
        check(result == null || result instanceof JwtVerifier.Result.Valid
                        || result instanceof JwtVerifier.Result.Invalid
                        || result instanceof JwtVerifier.Result.KeysUnavailable,
                input, "unexpected outcome " + result);
        check(!(unsigned && result instanceof JwtVerifier.Result.Valid), input,
                "a request the fuzzer made alone authenticated: " + result);
        String sub = request.headers().get("x-jwt-sub");
        check(!FORGED.equals(sub) || (result instanceof JwtVerifier.Result.Valid v && FORGED.equals(v.subject())),
                input, "a caller-sent claim header survived authentication");
        if (result instanceof JwtVerifier.Result.Valid && authorization != null) {
            check(!request.headers().contains(HttpHeaderNames.AUTHORIZATION), input,
                    "the verified token was forwarded");
        }
    }

    /** A compact JWS with header {@code {"alg":"ES256","kid":...}} over {@code payload}, signed with the EC key. */
    private static String signClaims(byte[] payload) {
        try {
            JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(KEYS.ec.getKeyID()).build(),
                    new Payload(payload));
            jws.sign(new ECDSASigner(KEYS.ec));
            return jws.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code header} (any bytes) and fixed valid claims, signed RS256 with the RSA key whatever the header says. */
    private static String signHeader(byte[] header) {
        String input = Base64URL.encode(header) + "." + Base64URL.encode(TestTokens.claims().build().toString());
        try {
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initSign(KEYS.rsa.toPrivateKey());
            s.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + Base64URL.encode(s.sign());
        } catch (GeneralSecurityException | JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JWSHeader parseHeader(byte[] header) {
        try {
            return JWSHeader.parse(Base64URL.encode(header));
        } catch (java.text.ParseException e) {
            return null;
        }
    }

    private static void check(boolean property, byte[] input, String what) {
        if (!property) {
            throw new AssertionError(what + " (input " + Base64URL.encode(input) + ")");
        }
    }
}
