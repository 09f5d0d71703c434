package dev.outrider.proxy.authn;

import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.proxy.authn.JwtVerifier.Options;
import dev.outrider.proxy.authn.JwtVerifier.Result;
import org.junit.jupiter.api.Test;

import java.security.Provider;
import java.time.Duration;
import java.util.List;

import static dev.outrider.proxy.authn.TestTokens.NOW;
import static dev.outrider.proxy.authn.TestTokens.claims;
import static dev.outrider.proxy.authn.TestTokens.inlineRule;
import static dev.outrider.proxy.authn.TestTokens.policy;
import static org.assertj.core.api.Assertions.assertThat;

class SignatureProvidersTest {
    private static final TestTokens KEYS = new TestTokens("p");

    @Test
    void conscryptIsPreferredOnLinuxX8664() {
        if (System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").equals("amd64")) {
            assertThat(SignatureProviders.ecdsa()).isNotNull();
            assertThat(SignatureProviders.ecdsa().getName()).isEqualTo("Conscrypt");
        }
    }

    @Test
    void aBrokenProviderFailsTheSelfTestSoTheJdkIsUsed() {
        Provider empty = new Provider("Empty", "1", "no services") {
        };
        assertThat(SignatureProviders.selfTested(empty)).isNull();
        assertThat(SignatureProviders.selfTested(null)).isNull();
    }

    @Test
    void es256VerifiesAndRefusesTheSameWithEitherProvider() {
        JWKSet keys = new JWKSet(KEYS.ec.toPublicJWK());
        for (Provider p : java.util.Arrays.asList(SignatureProviders.ecdsa(), null)) {
            JwtVerifier v = JwtVerifier.compile(List.of(policy(inlineRule(keys, List.of()))), null,
                    new Options(Options.DEFAULT_ALGORITHMS, Duration.ofSeconds(60), p, 8192));
            String token = KEYS.es256(claims().build());
            assertThat(v.verify(token, NOW)).isInstanceOf(Result.Valid.class);
            String[] parts = token.split("\\.");
            String forged = parts[0] + "." + com.nimbusds.jose.util.Base64URL.encode(
                    claims().claim("admin", true).build().toString()) + "." + parts[2];
            assertThat(v.verify(forged, NOW)).isEqualTo(new Result.Invalid("signature verification failed"));
        }
    }
}
