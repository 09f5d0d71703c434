package dev.outrider.core.watch;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.LastKnownGood;
import dev.outrider.core.snapshot.SignedSnapshot;
import dev.outrider.core.snapshot.SnapshotEndpoint;
import dev.outrider.core.snapshot.SnapshotSigner;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.core.snapshot.WorkloadSnapshot;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/** Signed snapshots for the watcher tests: a throw-away signing key made per test class. */
final class TestSnapshots {
    static final SpiffeId ORDERS = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders");
    static final String POLICIES = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-frontend, namespace: shop}
            spec:
              rules:
              - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
            """;

    final ECKey key;
    final SnapshotSigner signer;
    final SnapshotVerifier verifier;

    TestSnapshots() {
        try {
            key = new ECKeyGenerator(Curve.P_256).keyID("cp-test").generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        signer = SnapshotSigner.of(key);
        verifier = new SnapshotVerifier(new JWKSet(key.toPublicJWK()), ORDERS);
    }

    static final Instant ISSUED_AT = Instant.parse("2026-01-01T00:00:00Z");

    static WorkloadSnapshot snapshot(long version) {
        return new WorkloadSnapshot(Long.toString(version), ORDERS, ISSUED_AT, POLICIES,
                List.of(new SnapshotEndpoint(new ServiceName("payments", "shop"), "10.0.0.7:15006",
                        SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/payments"))));
    }

    /** A last-known-good cache checked with these keys, its clock an hour after {@link #ISSUED_AT}. */
    LastKnownGood cache(Path file) {
        return new LastKnownGood(file, verifier, LastKnownGood.DEFAULT_MAX_AGE,
                Clock.fixed(ISSUED_AT.plus(Duration.ofHours(1)), ZoneOffset.UTC));
    }

    SignedSnapshot signed(long version) {
        return new SignedSnapshot(version, signer.sign(snapshot(version)));
    }
}
