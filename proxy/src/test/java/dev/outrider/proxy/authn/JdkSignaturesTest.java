package dev.outrider.proxy.authn;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.Base64URL;
import dev.outrider.proxy.authn.JwtVerifier.Options;
import dev.outrider.proxy.authn.JwtVerifier.Result;
import io.netty.handler.ssl.OpenSsl;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.outrider.proxy.authn.TestTokens.NOW;
import static dev.outrider.proxy.authn.TestTokens.claims;
import static dev.outrider.proxy.authn.TestTokens.inlineRule;
import static dev.outrider.proxy.authn.TestTokens.policy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * JWT signatures are checked by the JDK's providers (bench/RESULTS.md "JWT verification" says why), and the
 * sidecar's only native crypto library is netty-tcnative's BoringSSL, for TLS.
 */
class JdkSignaturesTest {
    private static final TestTokens KEYS = new TestTokens("jdk");

    @Test
    void es256VerifiesAndAForgedPayloadIsRefused() {
        JwtVerifier v = JwtVerifier.compile(List.of(policy(inlineRule(new JWKSet(KEYS.ec.toPublicJWK()), List.of()))),
                null, Options.defaults());
        String token = KEYS.es256(claims().build());
        assertThat(v.verify(token, NOW)).isInstanceOf(Result.Valid.class);
        String[] parts = token.split("\\.");
        String forged = parts[0] + "." + Base64URL.encode(claims().claim("admin", true).build().toString()) + "."
                + parts[2];
        assertThat(v.verify(forged, NOW)).isEqualTo(new Result.Invalid("signature verification failed"));
    }

    /** One BoringSSL, not two: no Conscrypt (its own BoringSSL) reaches the sidecar's class path, directly or not. */
    @Test
    void theSidecarCarriesOneBoringSsl() {
        assertThatThrownBy(() -> Class.forName("org.conscrypt.Conscrypt", false, JwtVerifier.class.getClassLoader()))
                .isInstanceOf(ClassNotFoundException.class);
        if (System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").equals("amd64")) {
            assertThat(OpenSsl.versionString()).as("netty-tcnative's BoringSSL, for TLS").contains("BoringSSL");
        }
    }
}
