package dev.outrider.bench.load;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.Callable;

/**
 * A throw-away token issuer for load runs: makes an EC P-256 key, writes its public JWK Set (for a
 * RequestAuthentication's inline {@code jwks}) and one ES256 token signed with it.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.outrider.bench.load.BenchJwt --jwks jwks.json --token token.txt
 * </pre>
 */
@Command(name = "bench-jwt", mixinStandardHelpOptions = true,
        description = "Writes a one-key JWKS and an ES256 token for load runs.")
public final class BenchJwt implements Callable<Integer> {
    @Option(names = "--jwks", required = true, description = "file for the public JWK Set (JSON, one line)")
    Path jwks;

    @Option(names = "--token", required = true, description = "file for the compact token")
    Path token;

    @Option(names = "--issuer", defaultValue = "https://issuer.bench.outrider.dev", description = "iss (default ${DEFAULT-VALUE})")
    String issuer;

    @Option(names = "--subject", defaultValue = "bench-user", description = "sub (default ${DEFAULT-VALUE})")
    String subject;

    @Option(names = "--audience", defaultValue = "backend", description = "aud (default ${DEFAULT-VALUE})")
    String audience;

    @Option(names = "--valid-minutes", defaultValue = "60", description = "exp = now + this (default ${DEFAULT-VALUE})")
    long validMinutes;

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchJwt()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("bench-1").generate();
        Instant now = Instant.now();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(),
                new JWTClaimsSet.Builder()
                        .issuer(issuer).subject(subject).audience(audience)
                        .issueTime(Date.from(now)).notBeforeTime(Date.from(now.minusSeconds(5)))
                        .expirationTime(Date.from(now.plus(Duration.ofMinutes(validMinutes))))
                        .build());
        sign(jwt, key);
        Files.writeString(jwks, new JWKSet(key.toPublicJWK()).toString() + "\n");
        Files.writeString(token, jwt.serialize() + "\n");
        return 0;
    }

    private static void sign(SignedJWT jwt, ECKey key) throws JOSEException {
        jwt.sign(new ECDSASigner(key));
    }
}
