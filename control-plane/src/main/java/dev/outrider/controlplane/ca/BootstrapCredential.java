package dev.outrider.controlplane.ca;

import static java.util.Objects.requireNonNull;

/**
 * What a sidecar presents to get its first certificate, before it has any: proof of who it is, which a
 * {@link BootstrapAuthenticator} turns into a {@link WorkloadIdentity}. Sealed so every authenticator sees
 * every kind.
 *
 * <p>On the wire both kinds travel as {@code Authorization: Bearer <token>} (RFC 6750 §2.1); {@link #fromBearer}
 * tells them apart by shape (docs/control-plane.md "Certificates"): a token with a {@code '.'} is a JWT, i.e. a
 * Kubernetes service-account token (a JWS compact serialization always has two); anything else is a join token
 * (43 base64url characters, an alphabet without {@code '.'}).
 *
 * <p>Credentials are secrets: their {@code toString} never shows the value.
 */
public sealed interface BootstrapCredential
        permits BootstrapCredential.JoinToken, BootstrapCredential.ServiceAccountToken {

    /** The kind of a bearer token, by its shape; {@code token} is not checked any further here. */
    static BootstrapCredential fromBearer(String token) {
        requireNonNull(token, "token");
        return token.indexOf('.') >= 0 ? new ServiceAccountToken(token) : new JoinToken(token);
    }

    /** How the credential is named in messages and logs ("join token"), never its value. */
    String kind();

    /** A join token issued by {@link JoinTokens} (the embedded mode). */
    record JoinToken(String value) implements BootstrapCredential {
        public JoinToken {
            requireNonNull(value, "value");
        }

        @Override
        public String kind() {
            return "join token";
        }

        @Override
        public String toString() {
            return "JoinToken[redacted]";
        }
    }

    /**
     * A Kubernetes projected service-account token (a JWT signed by the cluster's service-account issuer),
     * verified by {@link KubernetesTokenAuthenticator}.
     */
    record ServiceAccountToken(String value) implements BootstrapCredential {
        public ServiceAccountToken {
            requireNonNull(value, "value");
        }

        @Override
        public String kind() {
            return "service-account token";
        }

        @Override
        public String toString() {
            return "ServiceAccountToken[redacted]";
        }
    }
}
