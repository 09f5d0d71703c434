package dev.outrider.controlplane.ca;

import static java.util.Objects.requireNonNull;

/**
 * What a sidecar presents to get its first certificate, before it has any: proof of who it is, which a
 * {@link BootstrapAuthenticator} turns into a {@link WorkloadIdentity}. Sealed so every authenticator sees
 * every kind; a Kubernetes service-account token (verified by TokenReview or against the cluster's JWKS)
 * becomes one more permitted record here and one more authenticator.
 *
 * <p>Credentials are secrets: their {@code toString} never shows the value.
 */
public sealed interface BootstrapCredential permits BootstrapCredential.JoinToken {

    /** A join token issued by {@link JoinTokens} (the embedded mode). */
    record JoinToken(String value) implements BootstrapCredential {
        public JoinToken {
            requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return "JoinToken[redacted]";
        }
    }
}
