package dev.outrider.core.snapshot;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.SpiffeId;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/** Keys, snapshots and hand-made tokens for the snapshot tests. */
final class Snapshots {
    static final SpiffeId ORDERS = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders");
    static final SpiffeId PAYMENTS = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/payments");
    static final String KID = "cp-1";
    static final String POLICIES = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-frontend, namespace: shop}
            spec:
              selector: {matchLabels: {app: orders}}
              rules:
              - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                to: [{operation: {methods: [GET], paths: ["/orders/*"]}}]
            ---
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-admin, namespace: shop}
            spec: {action: DENY, rules: [{to: [{operation: {paths: ["/admin/*"]}}]}]}
            """;

    private Snapshots() {
    }

    static ECKey newKey(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static SnapshotVerifier verifierFor(ECKey key, SpiffeId workload) {
        return new SnapshotVerifier(new JWKSet(key.toPublicJWK()), workload);
    }

    static WorkloadSnapshot snapshot(String version, SpiffeId workload) {
        return new WorkloadSnapshot(version, workload, Instant.parse("2025-06-01T12:00:00Z"), POLICIES, List.of(
                new SnapshotEndpoint(new ServiceName("payments", "shop"), "10.0.0.7:8443", PAYMENTS),
                new SnapshotEndpoint(new ServiceName("payments", "shop"), "[fd00::8]:8443", PAYMENTS),
                new SnapshotEndpoint(new ServiceName("catalog", "store"), "catalog.store.svc.cluster.local:15006",
                        SpiffeId.parse("spiffe://cluster.local/ns/store/sa/catalog"))));
    }

    static WorkloadSnapshot snapshot(String version) {
        return snapshot(version, ORDERS);
    }

    /** Signs any payload with any header and signer: the attacker's (or a buggy control plane's) tool. */
    static String signRaw(JWSHeader header, String payload, JWSSigner signer) {
        JWSObject jws = new JWSObject(header, new Payload(payload.getBytes(StandardCharsets.UTF_8)));
        try {
            jws.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jws.serialize();
    }

    static String payloadJson(WorkloadSnapshot snapshot) {
        return new String(SnapshotJson.write(snapshot), StandardCharsets.UTF_8);
    }

    /** {@code jws} with the character at {@code index} replaced by another base64url character. */
    static String flip(String jws, int index) {
        char c = jws.charAt(index);
        char other = c == 'A' ? 'B' : 'A';
        return jws.substring(0, index) + other + jws.substring(index + 1);
    }
}
