package dev.outrider.controlplane.ca;

import static java.util.Objects.requireNonNull;

/**
 * The bootstrap authenticator {@code POST /v1/certificates} uses: each kind of {@link BootstrapCredential} goes
 * to the authenticator for that kind. Join tokens always work (the embedded mode); Kubernetes service-account
 * tokens only when the control plane was started with {@code --k8s-issuer} and {@code --k8s-jwks}, and are
 * refused otherwise with a message saying so (401).
 *
 * <p>Immutable and thread-safe.
 */
public final class BootstrapAuthenticators implements BootstrapAuthenticator {
    static final String NOT_ENABLED = "service-account token refused: Kubernetes service-account tokens are not"
            + " enabled on this control plane (start it with --k8s-issuer and --k8s-jwks)";

    private final JoinTokens joinTokens;
    /** Null when Kubernetes tokens are not enabled. */
    private final KubernetesTokenAuthenticator kubernetes;

    /** @param kubernetesOrNull the service-account token authenticator, or null when they are not accepted */
    public BootstrapAuthenticators(JoinTokens joinTokens, KubernetesTokenAuthenticator kubernetesOrNull) {
        this.joinTokens = requireNonNull(joinTokens, "joinTokens");
        this.kubernetes = kubernetesOrNull;
    }

    @Override
    public WorkloadIdentity authenticate(BootstrapCredential credential) throws CaException {
        requireNonNull(credential, "credential");
        return switch (credential) {
            case BootstrapCredential.JoinToken t -> joinTokens.authenticate(t);
            case BootstrapCredential.ServiceAccountToken t -> {
                if (kubernetes == null) {
                    throw CaException.unauthenticated(NOT_ENABLED);
                }
                yield kubernetes.authenticate(t);
            }
        };
    }

    @Override
    public void spend(BootstrapCredential credential) throws CaException {
        if (credential instanceof BootstrapCredential.JoinToken t) {
            joinTokens.spend(t);
        } // service-account tokens are reusable until they expire: nothing to spend
    }

    @Override
    public String toString() {
        return "BootstrapAuthenticators[join tokens" + (kubernetes == null ? "" : ", " + kubernetes) + "]";
    }
}
